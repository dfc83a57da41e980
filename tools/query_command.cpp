// `stodepth query`: runs, curves, per-configuration summaries and read-only SQL.
#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "results/stats/stats.h"
#include "results/store/columns.h"
#include "model/config/distinguishing.h"
#include "results/store/store.h"
#include "tools/commands.h"
#include "tools/parse.h"
#include "tools/table.h"

namespace stodepth::cli {
namespace {

std::optional<std::string> number(const std::optional<double>& v, int precision = 4) {
  if (!v) return std::nullopt;
  return fmt::format("{:.{}g}", *v, precision);
}

// The parameter columns of a run as (name, text), the seed among them or not.
std::vector<std::pair<std::string, std::string>> parameters(const results::RunRow& r,
                                                            bool with_seed) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const results::ParameterColumn& column : results::parameter_columns())
    if (with_seed || !column.is_seed) out.emplace_back(column.name, column.text(r.config));
  return out;
}

// `--where` keys: the parameter columns, then the run's status and sweep.
std::vector<std::string> where_keys() {
  std::vector<std::string> keys;
  for (const results::ParameterColumn& column : results::parameter_columns())
    keys.push_back(column.name);
  keys.insert(keys.end(), {"status", "sweep"});
  return keys;
}

bool matches(const results::RunRow& r, const std::vector<std::pair<std::string, std::string>>& where) {
  auto params = parameters(r, true);
  params.emplace_back("status", to_string(r.state));
  params.emplace_back("sweep", r.sweep);
  for (const auto& [key, value] : where) {
    bool hit = false;
    for (const auto& [k, v] : params) {
      if (k != key) continue;
      char* end = nullptr;
      const double a = std::strtod(v.c_str(), &end);
      const bool numeric = end && *end == '\0' && !v.empty();
      const double b = std::strtod(value.c_str(), &end);
      hit = numeric && end && *end == '\0' ? a == b : v == value;
    }
    if (!hit) return false;
  }
  return true;
}

struct QueryFlags {
  std::string db = "out/results.db", format = "table";
  std::optional<std::string> sweep;
  std::vector<std::string> where;
  std::string status, run, sql;
  int every = 1;
};

Result<std::vector<std::pair<std::string, std::string>>> parse_where(
    const std::vector<std::string>& items) {
  const std::vector<std::string> keys = where_keys();
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos)
      return bad_input(fmt::format("--where {}: expected KEY=VALUE (e.g. depth=56)", item));
    const std::string key = item.substr(0, eq);
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      const auto hint = closest_match(key, keys);
      return bad_input(fmt::format("--where: unknown key '{}'{} (one of: {})", key,
                                   hint.empty() ? "" : fmt::format(", did you mean '{}'?", hint),
                                   fmt::join(keys, ", ")));
    }
    out.emplace_back(key, item.substr(eq + 1));
  }
  return out;
}

Result<TextTable> runs_table(results::Store& store, const QueryFlags& f) {
  auto where = parse_where(f.where);
  if (!where) return where.error();
  if (!f.status.empty()) where->emplace_back("status", f.status);
  auto rows = store.runs(f.sweep);
  if (!rows) return rows.error();
  TextTable t;
  t.columns = {"key", "sweep", "status"};
  for (const auto& [k, v] : parameters(results::RunRow{}, true)) t.columns.push_back(k);
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

Result<TextTable> curve_table(results::Store& store, const QueryFlags& f) {
  if (f.every < 1) return bad_input("--every: must be >= 1");
  auto rows = store.runs(std::nullopt);
  if (!rows) return rows.error();
  std::vector<std::string> hits;
  for (const auto& r : *rows)
    if (r.key.rfind(f.run, 0) == 0) hits.push_back(r.key);
  if (hits.empty()) return bad_input(fmt::format("no run with key '{}' (see 'query runs')", f.run));
  if (hits.size() > 1)
    return bad_input(
        fmt::format("key prefix '{}' matches {} runs; give more characters", f.run, hits.size()));
  auto curve = store.curve(hits[0]);
  if (!curve) return curve.error();
  TextTable t;
  t.columns = {"iteration", "epoch", "lr", "loss", "train_acc", "test_acc", "test_loss",
               "active_blocks", "step_ms"};
  for (const auto& r : *curve) {
    if (r.iteration % f.every != 0) continue;
    t.rows.push_back({std::to_string(r.iteration), std::to_string(r.epoch),
                      number(r.learning_rate), number(r.loss, 6), number(r.train_accuracy),
                      number(r.test_accuracy), number(r.test_loss, 6),
                      std::to_string(r.active_blocks), number(r.step_ms)});
  }
  return t;
}

Result<TextTable> summary_table(results::Store& store, const QueryFlags& f) {
  auto rows = store.runs(f.sweep);
  if (!rows) return rows.error();
  struct Group {
    std::vector<std::pair<std::string, std::string>> params;
    std::string config_json;
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
      it->second.params = parameters(r, false);
      it->second.config_json = r.config_json;
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
  // Settings that tell groups apart beyond the parameter columns, e.g. train.lr.warmup=1.
  std::vector<std::string> configs;
  for (const auto& id : order) configs.push_back(groups[id].config_json);
  std::vector<std::string> column_settings;
  for (const results::ParameterColumn& column : results::parameter_columns())
    column_settings.push_back(column.json_path);
  const auto others = distinguishing_settings(configs, column_settings);
  const bool any_other = std::any_of(others.begin(), others.end(),
                                     [](const std::string& o) { return !o.empty(); });
  TextTable t;
  for (const auto& [k, v] : parameters(results::RunRow{}, false)) t.columns.push_back(k);
  if (any_other) t.columns.push_back("other");
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
    for (const auto& [k, v] : g.params) row.push_back(v);
    if (any_other)
      row.push_back(others[i].empty() ? std::nullopt : std::optional<std::string>(others[i]));
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

Result<TextTable> sql_table(results::Store& store, const QueryFlags& f) {
  auto result = store.select(f.sql);
  if (!result) return result.error();
  return TextTable{result->columns, result->rows};
}

}  // namespace

CommandResult run_query(int argc, char** argv) {
  CLI::App app{"Query the results database (read-only).", "stodepth query"};
  app.require_subcommand(1);
  QueryFlags f;
  auto common = [&](CLI::App* sub) {
    sub->add_option("--db", f.db, "Results database")->capture_default_str();
    sub->add_option("--format", f.format, "table | csv | json")->capture_default_str();
  };
  auto* runs = app.add_subcommand(
      "runs", "One row per run, with parameters and results; runs with a validation split also "
              "show test_acc_at_best_val, the test accuracy at the epoch of best validation "
              "accuracy (the paper's measure; test_acc is the last epoch's)");
  common(runs);
  runs->add_option("--sweep", f.sweep, "Only runs of this sweep");
  runs->add_option("--where", f.where, "KEY=VALUE filter, repeatable (e.g. depth=56)");
  runs->add_option("--status", f.status, "queued|running|done|failed|diverged|interrupted");
  auto* curve = app.add_subcommand("curve", "The per-iteration series of one run");
  common(curve);
  curve->add_option("run", f.run, "Run key (or a unique prefix)")->required();
  curve->add_option("--every", f.every, "Every K-th iteration")->capture_default_str();
  auto* summary = app.add_subcommand(
      "summary", "Grouped by every parameter but the seed: n, mean ± std accuracy, speed");
  common(summary);
  summary->add_option("--sweep", f.sweep, "Only runs of this sweep");
  auto* sql = app.add_subcommand("sql", "A read-only SELECT");
  common(sql);
  sql->add_option("statement", f.sql, "The SELECT statement")->required();
  if (auto exit = parse_flags(app, argc, argv)) return *exit;
  const auto format = parse_table_format(f.format);
  if (!format)
    return bad_input(fmt::format("--format: unknown '{}' (one of: table, csv, json)", f.format));
  auto store = results::Store::open(f.db, results::OpenMode::kReadOnly);
  if (!store) return store.error();
  if (auto held = (*store)->hold_snapshot(); !held) return held.error();
  Result<TextTable> table = runs->parsed()      ? runs_table(**store, f)
                            : curve->parsed()   ? curve_table(**store, f)
                            : summary->parsed() ? summary_table(**store, f)
                                                : sql_table(**store, f);
  if (!table) return table.error();
  print_table(stdout, *table, *format);
  return kExitOk;
}

}  // namespace stodepth::cli
