#!/usr/bin/env bash
# Bad sweep files through `stodepth launch`, table-driven. usage: bad_sweep_test.sh path/to/stodepth
#
# Every case writes a small sweep file into a temporary directory and runs
#   stodepth launch FILE --db DIR/x.db --threads-per-job 1 [ARGS]
# under `timeout 20`, then checks that it
#   - exits 2 (kExitBadInput in tools/commands.h), never hangs or crashes;
#   - prints the stated number of lines on stderr (one per problem), each starting "FILE:",
#     the first starting "FILE:LINE:COL: " (just "FILE: " where no line exists, e.g. a
#     missing file), and one of them matching the case's regex (the dotted key and the fix);
#   - writes no database (a bad sweep is rejected before anything is written), and leaves
#     an existing database given with --db byte-identical (sha256 before and after).
# The files start from a valid one-iteration job ($head), so a bad file that the tool
# wrongly accepts fails its case in a second rather than training for hours.
set -u
bin="${1:?usage: bad_sweep_test.sh path/to/stodepth}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
db="$dir/x.db"
cases=0
failures=0
last_failed=""
existing=""  # sha256 of the database the next case starts from ("" = no database)

# A valid sweep's first two lines; a case's own lines start at line 3.
head='name: t
base: {dataset: {name: synthetic, test_subset: 100}, model: {depth: 8}, train: {iterations: 1, batch: 8}, eval: {every: 1, batch: 8}}
'

fail() {
  echo "FAIL $1: $2"
  failures=$((failures + 1))
  last_failed=$1
}

# check NAME PATH LINES WHERE REGEX [ARGS...]: the checks above for `launch PATH ARGS`;
# WHERE is "LINE:COL", or "" when the message cannot have a line (a missing file).
check() {
  local name="$1" path="$2" lines="$3" where="$4" regex="$5"
  shift 5
  cases=$((cases + 1))
  rm -rf "$db" "$db"-* "$db".*
  [ -n "$existing" ] && cp "$dir/existing.db" "$db"
  timeout 20 "$bin" launch "$path" --db "$db" --threads-per-job 1 "$@" >"$dir/out" 2>"$dir/err"
  local code=$? got_lines first prefix="$path:${where:+$where:} " problems=()
  got_lines=$(grep -c '' "$dir/err")
  first=$(head -n 1 "$dir/err")
  [ "$code" -eq 124 ] && problems+=("timed out after 20 s")
  [ "$code" -ne 2 ] && problems+=("exit $code, want 2")
  [ "$got_lines" -ne "$lines" ] && problems+=("$got_lines stderr lines, want $lines")
  [[ "$first" == "$prefix"* ]] || problems+=("first line does not start with '$prefix'")
  awk -v p="$path:" 'index($0, p) != 1 { bad = 1 } END { exit !bad }' "$dir/err" &&
    problems+=("a stderr line does not start with '$path:'")
  grep -qE -- "$regex" "$dir/err" || problems+=("no stderr line matches /$regex/")
  if [ -n "$existing" ]; then
    [ "$(sha256sum <"$db")" = "$existing" ] || problems+=("the existing database changed")
    local extra
    extra=$(cd "$dir" && compgen -G 'x.db?*' | tr '\n' ' ')
    [ -n "$extra" ] && problems+=("files written beside the database: $extra")
  else
    local written
    written=$(cd "$dir" && compgen -G 'x.db*' | tr '\n' ' ')
    [ -n "$written" ] && problems+=("database files written: $written")
  fi
  if [ "${#problems[@]}" -gt 0 ]; then
    local IFS=';'
    fail "$name" "${problems[*]} -- stderr: $(head -c 600 "$dir/err" | tr '\n\0' '|@')"
  fi
}

# expect_bad NAME LINES WHERE REGEX [ARGS...] <FILE_TEXT: check a sweep file NAME.yaml
# holding the text read from stdin.
expect_bad() {
  local name="$1"
  cat >"$dir/$name.yaml"
  shift
  check "$name" "$dir/$name.yaml" "$@"
}

# expect_dry_run_ok NAME JOBS <FILE_TEXT: the file is valid: `launch --dry-run` exits 0,
# lists JOBS jobs, prints nothing on stderr and writes no database.
expect_dry_run_ok() {
  local name="$1" jobs="$2" file="$dir/$1.yaml"
  cat >"$file"
  cases=$((cases + 1))
  rm -rf "$db" "$db"-* "$db".*
  timeout 20 "$bin" launch "$file" --db "$db" --dry-run >"$dir/out" 2>"$dir/err"
  local code=$?
  if [ "$code" -ne 0 ] || [ -s "$dir/err" ] || ! grep -q "^$jobs jobs in sweep" "$dir/out" ||
    compgen -G "$db*" >/dev/null; then
    fail "$name" "want exit 0, '$jobs jobs in sweep', empty stderr, no database; got exit $code, stderr: $(head -c 300 "$dir/err" | tr '\n' '|')"
  fi
}

# --- YAML syntax -------------------------------------------------------------------------
expect_bad unclosed_bracket 1 3:27 "YAML syntax error" <<<"${head}grid: {model.depth: [8, 14}"
expect_bad unclosed_bracket_at_eof 1 5:1 "YAML syntax error: end of sequence flow not found" <<EOF
${head}grid:
  model.depth: [8, 14
EOF
expect_bad unclosed_brace 1 4:1 "YAML syntax error: end of map flow not found" <<EOF
${head}grid: {model.depth: [8, 14]
seeds: [1]
EOF
expect_bad bad_indentation 1 5:2 "YAML syntax error" <<EOF
${head}grid:
  model.depth: [8]
 stochastic_depth.p_L: [0.5]
EOF
expect_bad bad_indentation_deeper 1 5:3 "YAML syntax error" <<EOF
${head}grid:
    model.depth: [8]
  stochastic_depth.p_L: [0.5]
EOF
expect_bad bad_list_indentation 1 5:2 "YAML syntax error" <<EOF
${head}seeds:
  - 1
 - 2
EOF
expect_bad undefined_alias 1 3:21 "YAML syntax error: the referenced anchor is not defined" \
  <<<"${head}grid: {model.depth: *nodepth}"
# A tab is invisible: the message must say that indentation uses a tab.
expect_bad tab_indentation 1 3:1 "[Tt]ab" < <(printf 'name: t\nbase:\n\tmodel: {depth: 20}\n')
expect_bad tab_indentation_nested 1 4:1 "[Tt]ab" < <(printf 'name: t\nbase:\n  model:\n\tdepth: 8\n')
# An unterminated quote must be reported where it opens, not swallow the rest of the file.
expect_bad unterminated_double_quote 1 3:14 "[Uu]nterminated|closing quote|no closing" <<EOF
${head}description: "never closed
grid: {model.depth: [8, 14]}
EOF
expect_bad unterminated_single_quote 1 3:14 "[Uu]nterminated|closing quote|no closing" \
  <<<"${head}description: 'never closed"
expect_bad unterminated_quote_in_flow 1 3:23 "[Uu]nterminated|closing quote|no closing" \
  <<<"${head}grid: {dataset.name: [\"synthetic]}"

# --- not a sweep: empty, not text, not a file --------------------------------------------
expect_bad empty_file 1 1:1 "expected a mapping with the keys name, description, base" </dev/null
expect_bad only_comments 1 1:1 "expected a mapping with the keys name" <<<"# nothing here"
expect_bad top_level_list 1 1:1 "expected a mapping with the keys name" <<<"- name: t"
expect_bad latin1_byte 1 3:17 "not UTF-8 text \(byte 0xE9\); save the file as UTF-8" \
  < <(printf '%sdescription: caf\xe9 au lait\n' "$head")
expect_bad bad_utf8_in_comment 1 3:3 "not UTF-8 text \(byte 0xC3\)" < <(printf '%s# \xc3\x28\n' "$head")
expect_bad utf8_surrogate 1 3:14 "not UTF-8 text \(byte 0xED\)" < <(printf '%sdescription: \xed\xa0\x80\n' "$head")
expect_bad utf8_overlong 1 3:14 "not UTF-8 text \(byte 0xC0\)" < <(printf '%sdescription: \xc0\xaf\n' "$head")
expect_bad binary_png 1 1:1 "not UTF-8 text \(byte 0x89\)" < <(printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10')
# NUL and other control bytes are UTF-8 but not text: say so, on one line, where they are.
expect_bad nul_byte 1 1:8 "control character U\+0000" < <(printf 'name: t\0\nbase: {}\n')
expect_bad nul_bytes_first 1 1:1 "control character U\+0000" < <(printf '\0\1\2\3name: t\n')
# A UTF-8 BOM at the start is allowed (YAML permits it), and columns on line 1 ignore it;
# one inside the file is an invisible character in a key: say so.
expect_dry_run_ok bom_at_start 1 < <(printf '\xef\xbb\xbf%s' "$head")
expect_bad bom_then_bad_name 1 1:7 "name: expected 1 to 200 letters, digits" < <(printf '\xef\xbb\xbfname: my sweep\n')
expect_bad bom_inside 1 2:1 "U\+FEFF|[Bb]yte order mark|BOM" < <(printf 'name: t\n\xef\xbb\xbfbase: {}\n')
mkdir "$dir/a_directory.yaml"
check directory "$dir/a_directory.yaml" 1 "" "[Dd]irectory"
check missing_file "$dir/missing.yaml" 1 "" "cannot open the sweep file \(does it exist\?\)"

# --- unknown keys, at every level, with "did you mean" -----------------------------------
expect_bad unknown_top_key 1 3:1 "unknown key 'gird' \(did you mean 'grid'\?\); a sweep's keys are name" \
  <<<"${head}gird: {model.depth: [8]}"
expect_bad config_key_at_top 1 3:1 "unknown key 'model' \(config keys go under 'base:'\)" \
  <<<"${head}model: {depth: 8}"
expect_bad unknown_base_section 1 3:3 "unknown key 'modle' \(did you mean 'model'\?\)" \
  < <(printf 'name: t\nbase:\n  modle: {depth: 20}\n')
expect_bad unknown_base_leaf 1 4:21 "unknown key 'model.widht' \(did you mean 'model.width'\?\)" <<EOF
name: t
base:
  dataset: {name: synthetic}
  model: {depth: 8, widht: 2}
EOF
expect_bad unknown_nested_leaf 1 4:21 "unknown key 'train.lr.gama' \(did you mean 'train.lr.gamma'\?\)" <<EOF
name: t
base:
  train:
    lr: {base: 0.1, gama: 0.5}
EOF
expect_bad unknown_axis_section 1 4:3 "unknown key 'modle.depth' \(did you mean 'model.depth'\?\)" <<EOF
${head}grid:
  modle.depth: [8]
EOF
expect_bad unknown_axis_leaf 1 4:3 "unknown key 'stochastic_depth.pL' \(did you mean 'stochastic_depth.p_L'\?\)" <<EOF
${head}grid:
  stochastic_depth.pL: [0.5]
EOF
expect_bad unknown_key_in_axis_mapping 1 4:15 "unknown key 'train.lr.shedule' \(did you mean 'train.lr.schedule'\?\)" <<EOF
${head}grid:
  train.lr: [{shedule: cosine}]
EOF
expect_bad unknown_key_in_exclude 1 4:12 "unknown key 'model.dpth' \(did you mean 'model.depth'\?\)" <<EOF
${head}grid: {model.depth: [8, 14]}
exclude: [{model.dpth: 14}]
EOF
expect_bad unknown_key_in_include 1 3:12 "unknown key 'stochastic_depth.rul' \(did you mean 'stochastic_depth.rule'\?\)" \
  <<<"${head}include: [{stochastic_depth.rul: uniform}]"
expect_bad seed_in_base 1 3:11 "train.seed: not a key of a sweep; list seeds in the top-level 'seeds:'" \
  < <(printf 'name: t\nbase:\n  train: {seed: 3}\n')

# --- wrong types ---------------------------------------------------------------------------
expect_bad depth_is_a_word 1 3:18 "model.depth: expected an integer, got 'twenty'" \
  < <(printf 'name: t\nbase:\n  model: {depth: twenty}\n')
expect_bad depth_is_quoted 1 3:22 "model.depth: expected an integer, got the string \"20\"" \
  <<<"${head}grid: {model.depth: [\"20\"]}"
expect_bad batch_is_a_list 1 3:18 "train.batch: expected an integer, got a list" \
  < <(printf 'name: t\nbase:\n  train: {batch: [64, 128]}\n')
expect_bad p_L_is_a_mapping 1 3:27 "stochastic_depth.p_L: expected a number, got a mapping" \
  < <(printf 'name: t\nbase:\n  stochastic_depth: {p_L: {value: 0.5}}\n')
expect_bad p_L_is_a_percentage 1 3:31 "stochastic_depth.p_L: expected a number, got '50%'" \
  <<<"${head}grid: {stochastic_depth.p_L: [50%]}"
expect_bad nesterov_not_a_bool 1 4:20 "train.nesterov: expected true or false, got 'maybe'" <<EOF
${head}grid:
  train.nesterov: [maybe]
EOF
expect_bad milestones_not_a_list 1 4:43 "train.lr.milestones: expected a list of numbers, got '5'" <<EOF
${head}grid:
  train.lr: [{schedule: step, milestones: 5}]
EOF
expect_bad section_is_a_scalar 1 3:10 "model: expected a mapping, got '20'" < <(printf 'name: t\nbase:\n  model: 20\n')
expect_bad base_is_a_list 1 2:7 "base: expected a mapping of config keys" <<<$'name: t\nbase: [model.depth, 20]'

# --- grid shape ----------------------------------------------------------------------------
expect_bad grid_is_an_empty_list 1 3:7 "grid: expected a mapping of dotted keys to lists of values" <<<"${head}grid: []"
expect_bad axis_is_an_empty_list 1 4:16 "grid axis 'model.depth' is empty" <<EOF
${head}grid:
  model.depth: []
EOF
expect_bad axis_without_values 1 4:3 "grid axis 'model.depth': expected a list of values" <<EOF
${head}grid:
  model.depth:
EOF
expect_bad exclude_matching_nothing 1 4:11 "exclude: this entry matches no grid combination" <<EOF
${head}grid: {model.depth: [8, 14]}
exclude: [{model.depth: 110}]
EOF
expect_bad everything_excluded 1 4:10 "every grid combination is excluded: the sweep has no jobs" <<EOF
${head}grid: {model.depth: [8]}
exclude: [{model.depth: 8}]
EOF
# 10^6 jobs: refused without --yes, counted rather than built (2·10^11 could not be built).
huge_grid() {
  printf '%sgrid:\n' "$head"
  for key in train.epochs train.batch eval.every eval.batch train.augment.crop_pad dataset.train_subset "$@"; do
    printf '  %s: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n' "$key"
  done
}
expect_bad huge_grid 1 4:3 "sweep expands to 1000000 jobs \(limit 100000; pass --yes to allow\)" < <(huge_grid)
expect_bad huge_grid_dry_run 1 4:3 "sweep expands to 1000000 jobs .*--yes" --dry-run < <(huge_grid)
expect_bad astronomical_grid 1 4:3 "sweep expands to 200000000000 jobs .*--yes" \
  < <(huge_grid model.width train.lr.base train.lr.gamma train.momentum; echo "seeds: [$(seq -s, 1 20)]")

# --- NaN, infinities, negative values ------------------------------------------------------
expect_bad lr_nan 1 3:24 "train\.lr\.base: \.nan is out of range" <<<"${head}grid: {train.lr.base: [.nan]}"
expect_bad lr_inf 1 3:24 "train\.lr\.base: \.inf is out of range" <<<"${head}grid: {train.lr.base: [.inf]}"
expect_bad lr_negative 1 3:24 "train\.lr\.base: -0\.1 must be a positive finite number" <<<"${head}grid: {train.lr.base: [-0.1]}"
expect_bad p_L_nan 1 3:31 "stochastic_depth\.p_L: \.NaN is out of range" <<<"${head}grid: {stochastic_depth.p_L: [.NaN]}"
expect_bad p_L_minus_inf 1 3:31 "stochastic_depth\.p_L: -\.inf is out of range" <<<"${head}grid: {stochastic_depth.p_L: [-.inf]}"
expect_bad weight_decay_negative 1 4:26 "train\.weight_decay: -0\.0001 must be >= 0" <<EOF
${head}include:
  - {train.weight_decay: -1.0e-4}
EOF
expect_bad weight_decay_inf 1 3:29 "train\.weight_decay: inf is out of range" <<<"${head}grid: {train.weight_decay: [inf]}"
expect_bad momentum_minus_inf 1 3:28 "train\.momentum: -\.Inf is out of range" <<<"${head}include: [{train.momentum: -.Inf}]"

# --- values validate() rejects, located at the value -------------------------------------
expect_bad depth_21 1 3:26 "model\.depth: 21 is not 6n\+2 with n >= 1 \(try 20 or 26\)" <<<"${head}grid: {model.depth: [20, 21]}"
expect_bad depth_0 1 3:18 "model\.depth: 0 is not 6n\+2 with n >= 1 \(try 8 or 14\)" \
  < <(printf 'name: t\nbase:\n  model: {depth: 0}\n')
expect_bad depth_minus_8 1 3:25 "model\.depth: -8 is not 6n\+2 with n >= 1 \(try 8 or 14\)" \
  <<<"${head}include: [{model.depth: -8}]"
expect_bad p_L_0 1 3:31 "stochastic_depth\.p_L: 0 is outside \(0, 1\] \(1 is the plain ResNet\)" \
  <<<"${head}grid: {stochastic_depth.p_L: [0]}"
expect_bad p_L_negative 1 3:31 "stochastic_depth\.p_L: -0\.5 is outside \(0, 1\]" <<<"${head}grid: {stochastic_depth.p_L: [-0.5]}"
expect_bad p_L_above_1 1 3:31 "stochastic_depth\.p_L: 1\.01 is outside \(0, 1\]" <<<"${head}grid: {stochastic_depth.p_L: [1.01]}"
expect_bad batch_0 1 3:22 "train\.batch: 0 must be positive" <<<"${head}grid: {train.batch: [0]}"
expect_bad epochs_0 1 3:23 "train\.epochs: give a positive number of epochs or iterations" \
  < <(printf 'name: t\nbase: {dataset: {name: synthetic}}\ngrid: {train.epochs: [0]}\n')
expect_bad epochs_0_iterations_0 1 4:19 "train\.epochs: give a positive number of epochs or iterations" \
  < <(printf 'name: t\nbase:\n  dataset: {name: synthetic}\n  train: {epochs: 0, iterations: 0}\n')
# A negative iteration count must be blamed on train.iterations, where it is written.
expect_bad iterations_negative 1 3:27 "train\.iterations: -1" <<<"${head}grid: {train.iterations: [-1]}"
expect_bad unknown_dataset 1 3:23 "dataset\.name: unknown dataset 'cifar-10', did you mean 'cifar10'\? \(one of: fashion-mnist" \
  <<<"${head}grid: {dataset.name: [cifar-10]}"
expect_bad unknown_shortcut 1 3:28 "model\.shortcut: expected one of A, B, C, got 'D'" <<<"${head}grid: {model.shortcut: [A, D]}"
expect_bad unknown_rule 1 3:32 "stochastic_depth\.rule: expected one of linear, uniform, got 'unifrom' \(did you mean 'uniform'\?\)" \
  <<<"${head}grid: {stochastic_depth.rule: [unifrom]}"
expect_bad unknown_schedule 1 3:28 "train\.lr\.schedule: expected one of constant, step, cosine, got 'cosin' \(did you mean 'cosine'\?\)" \
  <<<"${head}grid: {train.lr.schedule: [cosin]}"
expect_bad unknown_schedule_in_section_axis 1 3:30 "train\.lr\.schedule: expected one of constant, step, cosine, got 'exponential'" \
  <<<"${head}grid: {train.lr: [{schedule: exponential}]}"

# --- duplicates ----------------------------------------------------------------------------
expect_bad duplicate_top_key 1 2:1 "duplicate key 'name' \(first at line 1\)" <<<$'name: t\nname: u'
expect_bad duplicate_axis 1 5:3 "duplicate key 'model\.depth' \(first at line 4\)" <<EOF
${head}grid:
  model.depth: [8]
  model.depth: [14]
EOF
# One repeated key is one problem: one line.
expect_bad duplicate_key_in_flow_mapping 1 3:21 "duplicate key 'depth' \(first at line 3\)" \
  < <(printf 'name: t\nbase:\n  model: {depth: 8, depth: 14}\n')
expect_bad key_set_nested_and_dotted 1 3:45 "model\.depth: set twice \(first at line 3\)" \
  <<<"${head}include: [{model: {depth: 14}, model.depth: 20}]"

# --- seeds ---------------------------------------------------------------------------------
expect_bad seed_is_a_word 1 3:12 "seeds: expected an integer, got 'two'" <<<"${head}seeds: [1, two]"
expect_bad seed_is_a_fraction 1 3:9 "seeds: expected an integer, got '1\.5'" <<<"${head}seeds: [1.5]"
expect_bad seed_is_quoted 1 3:9 "seeds: expected an integer, got the string \"1\"" <<<"${head}seeds: [\"1\"]"
expect_bad seed_negative 1 3:9 "seeds: -1 must be a non-negative integer" <<<"${head}seeds: [-1]"
expect_bad seed_repeated 1 3:15 "seeds: 1 is listed twice" <<<"${head}seeds: [1, 2, 1]"
expect_bad seeds_empty 1 3:8 "seeds: expected a non-empty list of non-negative integers" <<<"${head}seeds: []"
expect_bad seeds_not_a_list 1 3:8 "seeds: expected a non-empty list" <<<"${head}seeds: 3"

# --- several problems: every one reported, one line each, in file order --------------------
expect_bad three_problems 3 4:17 "^.*:6:12: seeds: 1 is listed twice$" <<EOF
${head}grid:
  model.depth: [eight]
  model.wdth: [1]
seeds: [1, 1]
EOF
[ "$last_failed" = three_problems ] || [ "$(sed -n 2p "$dir/err")" = \
  "$dir/three_problems.yaml:5:3: unknown key 'model.wdth' (did you mean 'model.width'?)" ] ||
  fail three_problems "stderr line 2 is not the unknown key 'model.wdth' at 5:3: $(sed -n 2p "$dir/err")"

# --- an existing database given with --db is left byte-identical -------------------------
printf '%s' "$head" >"$dir/valid.yaml"
if timeout 60 "$bin" launch "$dir/valid.yaml" --db "$dir/existing.db" --threads-per-job 1 --quiet \
  >/dev/null 2>"$dir/err"; then
  existing=$(sha256sum <"$dir/existing.db")
  expect_bad existing_db_same_sweep_bad_depth 1 3:26 "model\.depth: 21 is not 6n\+2" \
    <<<"${head}grid: {model.depth: [20, 21]}"
  expect_bad existing_db_syntax_error 1 3:27 "YAML syntax error" <<<"${head}grid: {model.depth: [8, 14}"
  expect_bad existing_db_huge_grid 1 4:3 "sweep expands to 1000000 jobs" < <(huge_grid)
  expect_bad existing_db_unterminated_quote 1 3:14 "[Uu]nterminated|closing quote|no closing" <<EOF
${head}description: "never closed
grid: {model.depth: [8, 14]}
EOF
  existing=""
else
  fail existing_db "could not create the database to start from: $(head -c 300 "$dir/err")"
fi

echo "$cases cases, $failures failures"
[ "$failures" -eq 0 ]
