// `stodepth query`: runs, curves, per-configuration summaries and read-only SQL.
#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "model/base/did_you_mean.h"
#include "model/config/distinguishing.h"
#include "model/config/settings.h"
#include "results/stats/stats.h"
#include "results/store/columns.h"
#include "results/store/store.h"
#include "tools/commands.h"
#include "tools/parse.h"
#include "tools/table.h"

namespace stodepth::cli {
namespace {

struct QueryFlags {
  std::string db = "out/results.db", format = "table";
  std::optional<std::string> sweep;
  std::vector<std::string> where;
  std::string status, sql;
  std::vector<std::string> runs;  // curve and evals: run keys or unique prefixes
  int every = 1;
  bool exact = false;  // an export (CSV, JSON): every number at full precision
};

// Numbers as a query prints them: exports at full precision (exact_number), the table for
// people rounded to `digits` significant digits.
struct Numbers {
  bool exact;
  std::optional<std::string> operator()(const std::optional<double>& v, int digits = 4) const {
    if (!v) return std::nullopt;
    return exact ? exact_number(*v) : fmt::format("{:.{}g}", *v, digits);
  }
};

// The parameter columns of a run as (name, text), the seed among them or not.
std::vector<std::pair<std::string, std::string>> parameters(const results::RunRow& r,
                                                            bool with_seed) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const results::ParameterColumn& column : results::parameter_columns())
    if (with_seed || !column.is_seed) out.emplace_back(column.name, column.text(r.config));
  return out;
}

// The settings without a column of their own whose values differ among `configs` (e.g.
// stochastic_depth.mode in a sweep comparing the drop modes), or that always show when set
// (bf16 precision): query runs shows them too.
std::vector<const Setting*> varying_without_column(const std::vector<const TrainConfig*>& configs) {
  std::vector<const Setting*> out;
  if (configs.empty()) return out;
  for (const Setting* setting : settings_to_show(configs))
    if (!setting->column) out.push_back(setting);
  return out;
}

// A `--where` condition: a setting's value, or the run's status or sweep (setting nullptr).
struct Condition {
  const Setting* setting;
  std::string field, value;
};

// `--where` keys: every setting by its short name (its column's, e.g. p_L, or "mode") and by
// its dotted key, then the run's status and sweep.
std::vector<std::pair<std::string, const Setting*>> where_keys() {
  std::vector<std::pair<std::string, const Setting*>> keys;
  for (const Setting& setting : settings()) {
    if (setting.scope == Scope::kMachine) continue;
    keys.emplace_back(short_name(setting), &setting);
    if (short_name(setting) != setting.key) keys.emplace_back(setting.key, &setting);
  }
  keys.emplace_back("status", nullptr);
  keys.emplace_back("sweep", nullptr);
  return keys;
}

// The value of a setting with named values as the runs' text has it (shortcut=a is A); one
// no run can have (mode=sampel) is refused with a suggestion rather than matching nothing.
Result<std::string> named_value(const Setting* setting, const std::string& key,
                                const std::string& value) {
  const auto* member = setting ? std::get_if<EnumMember>(&setting->member) : nullptr;
  if (!member) return value;
  const auto& names = member->names->names;
  if (const auto index = member->names->parse(value)) return names[size_t(*index)];
  const auto hint = closest_match(value, names);
  return bad_input(fmt::format("--where {}: unknown value '{}'{} (one of: {})", key, value,
                               hint.empty() ? "" : fmt::format(", did you mean '{}'?", hint),
                               fmt::join(names, ", ")));
}

Result<std::vector<Condition>> parse_where(const std::vector<std::string>& items) {
  const auto keys = where_keys();
  std::vector<std::string> names, short_names;
  for (const auto& [name, setting] : keys) {
    names.push_back(name);
    if (!setting || name == short_name(*setting)) short_names.push_back(name);
  }
  std::vector<Condition> out;
  for (const auto& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos)
      return bad_input(fmt::format("--where {}: expected KEY=VALUE (e.g. depth=56)", item));
    const std::string key = item.substr(0, eq);
    const auto it =
        std::find_if(keys.begin(), keys.end(), [&](const auto& k) { return k.first == key; });
    if (it == keys.end()) {
      const auto hint = closest_match(key, names);
      return bad_input(
          fmt::format("--where: unknown key '{}'{} (one of: {}; or a setting's dotted key, e.g. "
                      "stochastic_depth.mode)",
                      key, hint.empty() ? "" : fmt::format(", did you mean '{}'?", hint),
                      fmt::join(short_names, ", ")));
    }
    auto value = named_value(it->second, key, item.substr(eq + 1));
    if (!value) return value.error();
    out.push_back({it->second, key, *value});
  }
  return out;
}

// Numbers compare as numbers (p_L=1 matches 1.0), anything else as text.
bool same_text_or_number(const std::string& a, const std::string& b) {
  char* end = nullptr;
  const double x = std::strtod(a.c_str(), &end);
  if (a.empty() || *end != '\0') return a == b;
  const double y = std::strtod(b.c_str(), &end);
  if (b.empty() || *end != '\0') return a == b;
  return x == y;
}

bool matches(const results::RunRow& r, const std::vector<Condition>& where) {
  return std::all_of(where.begin(), where.end(), [&](const Condition& c) {
    const std::string value = c.setting             ? value_text(*c.setting, r.config)
                              : c.field == "status" ? to_string(r.state)
                                                    : r.sweep;
    return same_text_or_number(value, c.value);
  });
}

// A --sweep the database does not hold: exit 2 with a suggestion, as `report` does.
Status check_sweep(results::Store& store, const std::optional<std::string>& sweep) {
  if (!sweep) return ok_status();
  auto sweeps = store.sweeps();
  if (!sweeps) return sweeps.error();
  std::vector<std::string> names;
  for (const auto& s : *sweeps) names.push_back(s.name);
  if (std::find(names.begin(), names.end(), *sweep) != names.end()) return ok_status();
  const auto hint = closest_match(*sweep, names);
  return bad_input(fmt::format("--sweep: no sweep '{}' in the database{} (have: {})", *sweep,
                               hint.empty() ? "" : fmt::format(", did you mean '{}'?", hint),
                               names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))));
}

Result<TextTable> runs_table(results::Store& store, const QueryFlags& f) {
  auto where = parse_where(f.where);
  if (!where) return where.error();
  if (!f.status.empty()) where->push_back({nullptr, "status", f.status});
  if (auto known = check_sweep(store, f.sweep); !known) return known.error();
  auto rows = store.runs(f.sweep);
  if (!rows) return rows.error();
  const Numbers number{f.exact};
  std::vector<const TrainConfig*> configs;
  for (const auto& r : *rows) configs.push_back(&r.config);
  const auto varying = varying_without_column(configs);
  TextTable t;
  t.columns = {"key", "sweep", "status"};
  t.text_columns = {"key", "sweep", "error"};
  for (const auto& [k, v] : parameters(results::RunRow{}, true)) t.columns.push_back(k);
  for (const Setting* setting : varying) t.columns.push_back(short_name(*setting));
  // test_acc is the final evaluation's; test_acc_at_best_val the paper's measure (the test
  // accuracy at the epoch of best validation accuracy) for runs with a validation split.
  const bool validation = std::any_of(rows->begin(), rows->end(), [](const auto& r) {
    return r.best_validation.has_value();
  });
  for (const char* c : {"test_acc", "test_loss", "wall_s", "step_ms", "img_per_s", "active",
                        "expected_active", "error"})
    t.columns.push_back(c);
  if (validation)
    for (const char* c : {"best_val_epoch", "best_val_acc", "test_acc_at_best_val"})
      t.columns.push_back(c);
  for (const auto& r : *rows) {
    if (!matches(r, *where)) continue;
    std::vector<std::optional<std::string>> row = {r.key, r.sweep, to_string(r.state)};
    for (const auto& [k, v] : parameters(r, true)) row.push_back(v);
    for (const Setting* setting : varying) row.push_back(value_text(*setting, r.config));
    for (const auto& v : {r.final_test_accuracy, r.final_test_loss, r.wall_seconds,
                          r.mean_step_ms, r.images_per_second, r.mean_active_blocks,
                          r.expected_active_blocks})
      row.push_back(number(v));
    row.push_back(r.error.empty() ? std::nullopt : std::optional<std::string>(r.error));
    if (validation) {
      const auto& best = r.best_validation;
      row.push_back(best ? std::optional(std::to_string(best->epoch)) : std::nullopt);
      row.push_back(number(best ? std::optional(best->validation_accuracy) : std::nullopt));
      row.push_back(number(best ? std::optional(best->test_accuracy) : std::nullopt));
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

// The runs named by keys or unique prefixes, in the order given.
Result<std::vector<std::string>> resolve_runs(results::Store& store,
                                              const std::vector<std::string>& prefixes) {
  auto rows = store.runs(std::nullopt);
  if (!rows) return rows.error();
  std::vector<std::string> keys;
  for (const auto& prefix : prefixes) {
    std::vector<std::string> hits;
    for (const auto& r : *rows)
      if (r.key.rfind(prefix, 0) == 0) hits.push_back(r.key);
    if (hits.empty())
      return bad_input(fmt::format("no run with key '{}' (see 'query runs')", prefix));
    if (hits.size() > 1)
      return bad_input(fmt::format("key prefix '{}' matches {} runs; give more characters", prefix,
                                   hits.size()));
    keys.push_back(hits[0]);
  }
  return keys;
}

// The whole-set evaluation columns of curve and evals: test set, then validation split.
constexpr const char* kEvalColumns[] = {"test_set_acc", "test_set_loss", "val_acc", "val_loss"};

void append_eval(std::vector<std::optional<std::string>>& row, const TestEvalRecord* e,
                 const Numbers& number) {
  row.push_back(number(e ? std::optional(e->accuracy) : std::nullopt));
  row.push_back(number(e ? std::optional(e->loss) : std::nullopt, 6));
  row.push_back(number(e ? e->validation_accuracy : std::nullopt));
  row.push_back(number(e ? e->validation_loss : std::nullopt, 6));
}

// One run's curve: every `every`-th iteration and every iteration with an evaluation (of a
// test batch, or of the whole test set merged on its iteration); an evaluation at an
// iteration without a row gets a row of its own.
void append_curve(TextTable& t, const std::string& key, const std::vector<IterationRecord>& curve,
                  const std::vector<TestEvalRecord>& evals, int every, const Numbers& number) {
  size_t e = 0;
  auto eval_only_row = [&](const TestEvalRecord& eval) {
    std::vector<std::optional<std::string>> row = {key, std::to_string(eval.iteration),
                                                   std::to_string(eval.epoch)};
    row.resize(t.columns.size() - std::size(kEvalColumns));
    append_eval(row, &eval, number);
    t.rows.push_back(std::move(row));
  };
  for (const auto& r : curve) {
    for (; e < evals.size() && evals[e].iteration < r.iteration; ++e) eval_only_row(evals[e]);
    const TestEvalRecord* eval =
        e < evals.size() && evals[e].iteration == r.iteration ? &evals[e++] : nullptr;
    if (r.iteration % every != 0 && !r.test_accuracy && !eval) continue;
    std::vector<std::optional<std::string>> row = {key,
                                                   std::to_string(r.iteration),
                                                   std::to_string(r.epoch),
                                                   number(r.learning_rate),
                                                   number(r.loss, 6),
                                                   number(r.train_accuracy),
                                                   number(r.test_accuracy),
                                                   number(r.test_loss, 6),
                                                   std::to_string(r.active_blocks),
                                                   number(r.step_ms)};
    append_eval(row, eval, number);
    t.rows.push_back(std::move(row));
  }
  for (; e < evals.size(); ++e) eval_only_row(evals[e]);
}

Result<TextTable> curve_table(results::Store& store, const QueryFlags& f) {
  if (f.every < 1) return bad_input("--every: must be >= 1");
  auto keys = resolve_runs(store, f.runs);
  if (!keys) return keys.error();
  TextTable t;
  t.columns = {"key",      "iteration", "epoch",         "lr",     "loss", "train_acc",
               "test_acc", "test_loss", "active_blocks", "step_ms"};
  t.columns.insert(t.columns.end(), std::begin(kEvalColumns), std::end(kEvalColumns));
  t.text_columns = {"key"};
  for (const auto& key : *keys) {
    auto curve = store.curve(key);
    if (!curve) return curve.error();
    auto evals = store.test_evals(key);
    if (!evals) return evals.error();
    append_curve(t, key, *curve, *evals, f.every, Numbers{f.exact});
  }
  return t;
}

Result<TextTable> evals_table(results::Store& store, const QueryFlags& f) {
  auto keys = resolve_runs(store, f.runs);
  if (!keys) return keys.error();
  TextTable t;
  t.columns = {"key", "epoch", "iteration"};
  t.columns.insert(t.columns.end(), std::begin(kEvalColumns), std::end(kEvalColumns));
  t.text_columns = {"key"};
  for (const auto& key : *keys) {
    auto evals = store.test_evals(key);
    if (!evals) return evals.error();
    for (const auto& e : *evals) {
      std::vector<std::optional<std::string>> row = {key, std::to_string(e.epoch),
                                                     std::to_string(e.iteration)};
      append_eval(row, &e, Numbers{f.exact});
      t.rows.push_back(std::move(row));
    }
  }
  return t;
}

Result<TextTable> summary_table(results::Store& store, const QueryFlags& f) {
  if (auto known = check_sweep(store, f.sweep); !known) return known.error();
  auto rows = store.runs(f.sweep);
  if (!rows) return rows.error();
  struct Group {
    const results::RunRow* first = nullptr;  // its settings, the seed apart
    int runs = 0;
    std::vector<double> accuracy, step_ms, images;
    std::vector<double> accuracy_at_best_validation;
  };
  // By every setting but the seed, those without a column of their own included.
  std::map<std::string, Group> groups;
  std::vector<std::string> order;
  for (const auto& r : *rows) {
    const std::string id = settings_key(r.config_json, false);
    auto [it, inserted] = groups.try_emplace(id);
    if (inserted) {
      order.push_back(id);
      it->second.first = &r;
    }
    Group& g = it->second;
    ++g.runs;
    if (r.state != results::RunState::kDone) continue;
    if (r.final_test_accuracy) g.accuracy.push_back(*r.final_test_accuracy);
    if (r.best_validation) g.accuracy_at_best_validation.push_back(r.best_validation->test_accuracy);
    if (r.mean_step_ms) g.step_ms.push_back(*r.mean_step_ms);
    if (r.images_per_second) g.images.push_back(*r.images_per_second);
  }
  // Mean and sample std (none for one value), as stats::summarize computes them.
  struct Spread {
    std::optional<double> mean, stddev;
  };
  auto spread = [](const std::vector<double>& v) -> Spread {
    auto finite = [](double x) { return std::isfinite(x) ? std::optional(x) : std::nullopt; };
    if (const auto s = results::stats::summarize(v)) return {finite(s->mean), finite(s->stddev)};
    if (v.size() == 1) return {finite(v[0]), std::nullopt};
    return {};
  };
  // Settings that tell groups apart beyond the parameter columns (e.g. mode, warmup), a
  // column each as in `query runs`.
  std::vector<const TrainConfig*> configs;
  for (const auto& id : order) configs.push_back(&groups[id].first->config);
  const auto varying = varying_without_column(configs);
  const Numbers number{f.exact};
  TextTable t;
  for (const auto& [k, v] : parameters(results::RunRow{}, false)) t.columns.push_back(k);
  for (const Setting* setting : varying) t.columns.push_back(short_name(*setting));
  for (const char* c : {"runs", "n", "acc_mean", "acc_std", "step_ms", "img_per_s"})
    t.columns.push_back(c);
  const bool validation = std::any_of(order.begin(), order.end(), [&](const std::string& id) {
    return !groups[id].accuracy_at_best_validation.empty();
  });
  if (validation)
    for (const char* c : {"acc_at_best_val_mean", "acc_at_best_val_std"}) t.columns.push_back(c);
  for (size_t i = 0; i < order.size(); ++i) {
    const Group& g = groups[order[i]];
    std::vector<std::optional<std::string>> row;
    for (const auto& [k, v] : parameters(*g.first, false)) row.push_back(v);
    for (const Setting* setting : varying) row.push_back(value_text(*setting, g.first->config));
    row.push_back(std::to_string(g.runs));
    row.push_back(std::to_string(g.accuracy.size()));
    const Spread accuracy = spread(g.accuracy);
    row.push_back(number(accuracy.mean));
    row.push_back(number(accuracy.stddev, 3));
    row.push_back(number(spread(g.step_ms).mean));
    row.push_back(number(spread(g.images).mean));
    if (validation) {
      const Spread at_best = spread(g.accuracy_at_best_validation);
      row.push_back(number(at_best.mean));
      row.push_back(number(at_best.stddev, 3));
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

// Each sweep of the database: its runs by state, and its description.
Result<TextTable> sweeps_table(results::Store& store) {
  auto sweeps = store.sweeps();
  if (!sweeps) return sweeps.error();
  TextTable t;
  t.columns = {"sweep", "runs", "done", "running", "queued", "other", "description"};
  t.text_columns = {"sweep", "description"};
  for (const auto& sweep : *sweeps) {
    auto rows = store.runs(sweep.name);
    if (!rows) return rows.error();
    std::map<results::RunState, int> count;
    for (const auto& r : *rows) ++count[r.state];
    const int other = int(rows->size()) - count[results::RunState::kDone] -
                      count[results::RunState::kRunning] - count[results::RunState::kQueued];
    t.rows.push_back({sweep.name, std::to_string(rows->size()),
                      std::to_string(count[results::RunState::kDone]),
                      std::to_string(count[results::RunState::kRunning]),
                      std::to_string(count[results::RunState::kQueued]), std::to_string(other),
                      sweep.description});
  }
  return t;
}

Result<TextTable> sql_table(results::Store& store, const QueryFlags& f) {
  auto result = store.select(f.sql);
  if (!result) return result.error();
  return TextTable{result->columns, result->rows};
}

}  // namespace

CommandResult run_query(int argc, char** argv) {
  CLI::App app{
      "Query the results database (read-only). --format csv and json write every number at "
      "full precision, the shortest text that reads back as the same double (fmt's \"{}\": 1 "
      "for 1.0, 150.975938819743 in full), in every subcommand and in sql's REAL values alike; "
      "the table for reading rounds them to 4 significant digits.",
      "stodepth query"};
  app.require_subcommand(1);
  QueryFlags f;
  auto common = [&](CLI::App* sub) {
    sub->add_option("--db", f.db, "Results database")->capture_default_str();
    sub->add_option("--format", f.format, "table | csv | json")->capture_default_str();
  };
  auto* runs = app.add_subcommand(
      "runs",
      "One row per run, with its settings and results: the parameter columns, then a "
      "column for each other setting that differs among the runs listed (e.g. mode), "
      "by its short name. Runs with a validation split also show test_acc_at_best_val, "
      "the test accuracy at the epoch of best validation accuracy (the paper's measure; "
      "test_acc is the last epoch's)");
  common(runs);
  runs->add_option("--sweep", f.sweep, "Only runs of this sweep");
  runs->add_option("--where", f.where,
                   "KEY=VALUE filter, repeatable (e.g. depth=56, mode=sample): KEY is a column "
                   "name, any setting's short name or dotted key (stochastic_depth.mode), status "
                   "or sweep; numbers match as numbers (p_L=1 matches 1.0)");
  runs->add_option("--status", f.status, "queued|running|done|failed|diverged|interrupted");
  auto* curve = app.add_subcommand(
      "curve",
      "The per-iteration series of runs, a row per iteration with the run's key in "
      "each (curves of several runs stack): lr, training loss and accuracy, test_acc "
      "and test_loss of the test batch evaluated every eval.every iterations, step "
      "time; then test_set_acc, test_set_loss, val_acc, val_loss of the whole test set "
      "and validation split, evaluated each epoch, on the row of their iteration");
  common(curve);
  curve->add_option("runs", f.runs, "Run keys (or unique prefixes)")->required();
  curve
      ->add_option("--every", f.every,
                   "Every K-th iteration; rows with an evaluation are always kept")
      ->capture_default_str();
  auto* evals = app.add_subcommand(
      "evals",
      "The whole-test-set (and validation) evaluations of runs, one row per epoch: "
      "test_set_acc, test_set_loss, val_acc, val_loss");
  common(evals);
  evals->add_option("runs", f.runs, "Run keys (or unique prefixes)")->required();
  auto* summary = app.add_subcommand(
      "summary", "Grouped by every parameter but the seed: n, mean ± std accuracy, speed");
  common(summary);
  summary->add_option("--sweep", f.sweep, "Only runs of this sweep");
  auto* sweeps =
      app.add_subcommand("sweeps",
                         "Each sweep of the database: its runs done, running, queued and other "
                         "(failed, diverged, interrupted), and its description");
  common(sweeps);
  auto* sql = app.add_subcommand("sql", "A read-only SELECT");
  common(sql);
  sql->add_option("statement", f.sql, "The SELECT statement")->required();
  if (auto exit = parse_flags(app, argc, argv)) return *exit;
  const auto format = parse_table_format(f.format);
  if (!format)
    return bad_input(fmt::format("--format: unknown '{}' (one of: table, csv, json)", f.format));
  f.exact = *format != TableFormat::kTable;
  auto store = results::Store::open(f.db, results::OpenMode::kReadOnly);
  if (!store) return store.error();
  if (auto held = (*store)->hold_snapshot(); !held) return held.error();
  Result<TextTable> table = runs->parsed()      ? runs_table(**store, f)
                            : curve->parsed()   ? curve_table(**store, f)
                            : evals->parsed()   ? evals_table(**store, f)
                            : summary->parsed() ? summary_table(**store, f)
                            : sweeps->parsed()  ? sweeps_table(**store)
                                                : sql_table(**store, f);
  if (!table) return table.error();
  print_table(stdout, *table, *format);
  return kExitOk;
}

}  // namespace stodepth::cli
