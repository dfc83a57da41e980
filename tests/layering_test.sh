#!/usr/bin/env bash
# The layers of README's Architecture, checked on the sources: each folder includes only the
# layers below it, oneDNN is included only by the engine under model/, and the libraries that
# the store, the sweeps and the report build on include no dataset reader.
# usage: layering_test.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
build="$(cd "${2:?build directory}" && pwd)"
cd "${1:?source directory}"

failures=0
# forbid WHAT FOLDER...: no line of the product sources under FOLDER matches the regex WHAT.
forbid() {
  local what="$1" why="$2"
  shift 2
  local hits
  hits=$(grep -rnE --include='*.h' --include='*.cpp' "$what" "$@" 2>/dev/null)
  if [[ -n "$hits" ]]; then
    echo "FAIL: $why:"
    echo "$hits" | sed 's/^/  /'
    failures=$((failures + 1))
  else
    echo "ok: $why"
  fi
}

engine='#include [<"](oneapi/dnnl|dnnl)'
forbid "$engine" "oneDNN is included only under model/" harness results sweeps tools
forbid "$engine" "the config and base layers include no oneDNN" model/base model/config model/data

readers='#include "model/data/'
forbid "$readers" "the config and base layers include no dataset reader" model/base model/config
forbid "$readers" "the store, stats and report include no dataset reader" results
forbid "$readers" "the sweeps include no dataset reader" sweeps

engine_units='#include "model/(dnn/|resnet|trainer|sgd|checkpoint|training_state|bench|engine)'
forbid "$engine_units" "the store, stats and report include nothing of the engine" results
forbid "$engine_units" "the sweeps include nothing of the engine" sweeps
forbid "$engine_units" "the config layer includes nothing of the engine" model/base model/config model/data

# What the linker is given: a test of each library links that library and what it depends on.
for probe in columns_test:stodepth_results sweep_test:stodepth_sweeps svg_test:stodepth_report; do
  test="${probe%%:*}" library="${probe#*:}"
  link="$build/tests/CMakeFiles/$test.dir/link.txt"
  if [[ ! -f "$link" ]]; then
    echo "FAIL: $link not found (build the tests first)"
    failures=$((failures + 1))
  elif grep -qE 'libstodepth_(data|model)\.a' "$link"; then
    echo "FAIL: $library links the dataset readers or the engine ($link)"
    failures=$((failures + 1))
  else
    echo "ok: $library links no dataset reader and no engine"
  fi
done

forbid '#include "(harness|results|sweeps|tools)/' "model/ includes nothing above it" model
forbid '#include "(harness|sweeps|tools)/' "results/ includes neither the harness, the sweeps nor the CLI" results
forbid '#include "(harness|results|tools)/' "sweeps/ includes neither the harness, the store nor the CLI" sweeps
forbid '#include "tools/' "harness/ includes nothing of the CLI" harness
forbid '#include "tools/[a-z_]+\.h"' "tools/serve/ includes no command of the CLI" tools/serve
forbid '#include [<"]httplib' "the HTTP library is included only by the server" \
  model harness results sweeps tools/serve/api.cpp tools/serve/pages.cpp tools/serve/series.cpp \
  tools/serve/thinning.cpp tools/serve/assets.cpp tools/serve/*.h

((failures == 0))
