#include "tools/serve/pages.h"

#include <fmt/format.h>

#include <cctype>

#include "model/config/distinguishing.h"
#include "results/report/html.h"

namespace stodepth::serve {
namespace {

using results::html::escape;

std::string layout(const std::string& title, const std::string& page_attributes,
                   const std::string& body, const std::string& head_extra = "") {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>{0} · stodepth</title>\n"
      "<link rel=\"icon\" href=\"data:,\">\n"
      "<link rel=\"stylesheet\" href=\"/static/dygraph.min.css\">\n"
      "<link rel=\"stylesheet\" href=\"/static/app.css\">\n{3}"
      "<script src=\"/static/dygraph.min.js\" defer></script>\n"
      "<script src=\"/static/app.js\" defer></script>\n"
      "</head>\n<body {1}>\n<nav><a href=\"/\">Sweeps</a> · <a "
      "href=\"/compare\">Compare</a></nav>\n"
      "<h1>{0}</h1>\n{2}</body>\n</html>\n",
      escape(title), page_attributes, body, head_extra);
}

std::string charts(const std::string& id_prefix = "chart-") {
  std::string html = "<div class=\"charts\">\n";
  for (const auto& m : chart_metrics())
    html += fmt::format(
        "<figure class=\"chart\"><figcaption>{1} <span class=\"thinning\" "
        "id=\"thinning-{0}\"></span></figcaption><div class=\"legend\" id=\"legend-{0}\"></div>"
        "<div id=\"{2}{0}\" class=\"plot\" data-metric=\"{0}\" data-points=\"0\" "
        "data-drawn=\"\"></div></figure>\n",
        m.metric, escape(m.title), id_prefix);
  return html + "</div>\n";
}

std::string controls(bool with_groups) {
  std::string html =
      "<form class=\"controls\" id=\"controls\">\n"
      "<label>smoothing <select id=\"smoothing\"><option value=\"none\">none</option>"
      "<option value=\"box\">box</option><option value=\"ewma\">EWMA</option></select></label>\n"
      "<label>window <input id=\"smoothing-window\" type=\"number\" min=\"1\" max=\"100000\" "
      "value=\"20\"></label>\n"
      "<label>x axis <select id=\"xaxis\"><option value=\"iteration\">iteration</option>"
      "<option value=\"epoch\">epoch</option><option value=\"wall\">training time (s)</option>"
      "</select></label>\n"
      "<label><input id=\"logscale\" type=\"checkbox\"> log-scale y</label>\n";
  if (with_groups)
    html +=
        "<label>filter <input id=\"filter\" type=\"text\" placeholder=\"p_L=0.5 mode=sample\">"
        "</label>\n<label>group by <select id=\"group-by\"><option value=\"run\">run</option>"
        "<option value=\"arm\">arm (mean ± sd over seeds)</option></select></label>\n";
  return html + "</form>\n";
}

std::string settings_table(const std::string& config_json) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& [path, value] : flatten_json(config_json)) rows.push_back({path, value});
  return results::html::table({"setting", "value"}, rows, {false, false});
}

// The text between `open` and `close` in `html` (empty if absent).
std::string between(const std::string& html, const std::string& open, const std::string& close) {
  const size_t begin = html.find(open);
  if (begin == std::string::npos) return "";
  const size_t end = html.find(close, begin + open.size());
  if (end == std::string::npos) return "";
  return html.substr(begin + open.size(), end - begin - open.size());
}

}  // namespace

const std::vector<ChartMetric>& chart_metrics() {
  static const std::vector<ChartMetric> metrics = {
      {"train_loss", "training loss (mini-batch)"},
      {"test_batch_acc", "test accuracy (test mini-batch)"},
      {"test_acc", "test accuracy (whole test set)"},
      {"val_acc", "validation accuracy"},
      {"lr", "learning rate"},
      {"step_ms", "step time (ms)"},
      {"active_blocks", "active blocks"}};
  return metrics;
}

std::string sweeps_page(const std::vector<results::SweepRecord>& sweeps) {
  std::string rows;
  for (const auto& s : sweeps)
    rows += fmt::format(
        "<tr data-sweep=\"{0}\"><td><a href=\"/sweep/{1}\">{0}</a></td><td>{2}</td>"
        "<td class=\"states\"></td><td class=\"progress\"></td><td class=\"eta\"></td>"
        "<td class=\"machines\"></td><td><a href=\"/sweep/{1}/report\">report</a></td></tr>\n",
        escape(s.name), escape(url_path_segment(s.name)), escape(s.description));
  return layout("Sweeps", "data-page=\"sweeps\"",
                "<table id=\"sweeps\"><thead><tr><th>sweep</th><th>description</th><th>jobs by "
                "state</th><th>progress</th><th>ETA</th><th>machines</th><th></th></tr></thead>"
                "<tbody>\n" +
                    rows + "</tbody></table>\n");
}

std::string sweep_page(const results::SweepRecord& sweep) {
  const std::string body = fmt::format(
      "<p class=\"description\">{0}</p>\n<p><a href=\"/sweep/{1}/report\">comparison "
      "report</a> · <span id=\"sweep-eta\"></span> · <span id=\"updated\"></span></p>\n{2}"
      "<table id=\"jobs\"><thead><tr><th>run</th><th>settings</th><th>state</th><th>iteration"
      "</th><th>loss</th><th>test acc. (batch)</th><th>test acc.</th><th>img/s</th><th>ETA</th>"
      "<th>note</th></tr></thead><tbody></tbody></table>\n{3}",
      escape(sweep.description), escape(url_path_segment(sweep.name)), controls(true), charts());
  return layout("Sweep " + sweep.name,
                fmt::format("data-page=\"sweep\" data-sweep=\"{}\"", escape(sweep.name)), body);
}

std::string report_page(
    const results::SweepRecord& sweep, const std::string& report_html,
    const std::vector<std::pair<std::string, std::vector<results::RunRow>>>& arms) {
  std::string runs;
  for (const auto& [label, members] : arms) {
    runs += fmt::format("<li>{}:", escape(label));
    for (const auto& run : members)
      runs += fmt::format(" <a href=\"/run/{0}\" data-key=\"{0}\">{0}</a> ({1})", escape(run.key),
                          escape(to_string(run.state)));
    runs += "</li>\n";
  }
  const std::string body = fmt::format(
      "<p><a href=\"/sweep/{0}\">live view</a></p>\n<div id=\"report\">\n{1}</div>\n"
      "<section id=\"report-runs\"><h2>Runs of each arm</h2><ul>\n{2}</ul></section>\n",
      escape(url_path_segment(sweep.name)), between(report_html, "<body>\n", "</body>"), runs);
  const std::string style = "<style>" + between(report_html, "<style>", "</style>") + "</style>\n";
  return layout("Report " + sweep.name,
                fmt::format("data-page=\"report\" data-sweep=\"{}\"", escape(sweep.name)), body,
                style);
}

std::string run_page(const results::RunRow& run, const std::vector<results::RunStop>& stops) {
  std::vector<std::vector<std::string>> stop_rows;
  for (const auto& s : stops)
    stop_rows.push_back(
        {s.at, std::to_string(s.iteration), s.cause, s.slurm_job, s.requeued ? "yes" : "no"});
  const auto& m = run.machine;
  const std::string machine =
      results::html::table({"host", "CPU", "ISA", "cores", "threads", "oneDNN"},
                           {{m.host, m.cpu_model, m.isa, std::to_string(m.cores),
                             std::to_string(run.threads), m.onednn_version}},
                           {false, false, false, true, true, false});
  const std::string body = fmt::format(
      "<p>sweep <a href=\"/sweep/{1}\">{2}</a> · state <span id=\"run-state\">{3}</span> · "
      "started {4} · ended {5}</p>\n<p class=\"error\">{6}</p>\n"
      "<p>download the curves: <a href=\"/run/{0}/curve.csv\">CSV</a> · "
      "<a href=\"/run/{0}/curve.json\">JSON</a> · <a href=\"/compare?runs={0}\">compare</a></p>\n"
      "{7}{8}<h2>Settings</h2>\n{9}<h2>Machine</h2>\n{10}<h2>Stops</h2>\n{11}",
      escape(run.key), escape(url_path_segment(run.sweep)), escape(run.sweep),
      escape(to_string(run.state)), escape(run.started_at), escape(run.ended_at), escape(run.error),
      controls(false), charts(), settings_table(run.config_json), machine,
      stop_rows.empty()
          ? "<p>none</p>\n"
          : results::html::table({"at", "iteration", "cause", "Slurm job", "requeued"}, stop_rows,
                                 {false, true, false, false, false}));
  return layout("Run " + run.key,
                fmt::format("data-page=\"run\" data-keys=\"{}\"", escape(run.key)), body);
}

std::string compare_page(const std::vector<results::RunRow>& picked,
                         const std::vector<results::RunRow>& all) {
  std::string keys, options;
  for (const auto& run : picked) keys += (keys.empty() ? "" : ",") + run.key;
  std::vector<std::string> configs;
  for (const auto& run : all) configs.push_back(run.config_json);
  const auto labels = distinguishing_settings(configs, {"train.seed"});
  for (size_t i = 0; i < all.size(); ++i) {
    const bool on = keys.find(all[i].key) != std::string::npos;
    options += fmt::format(
        "<li><label><input type=\"checkbox\" class=\"pick\" value=\"{0}\"{1}> {2} · <a "
        "href=\"/run/{0}\">{0}</a> seed {4} {3}</label></li>\n",
        escape(all[i].key), on ? " checked" : "", escape(all[i].sweep), escape(labels[i]),
        all[i].config.train.seed);
  }
  const std::string body = fmt::format(
      "<form method=\"get\" action=\"/compare\" id=\"picker\"><label>runs <input id=\"runs\" "
      "name=\"runs\" type=\"text\" size=\"60\" value=\"{0}\"></label> <button>compare</button>"
      "<details><summary>pick runs (at most 20)</summary><ul class=\"picker\">\n{1}</ul>"
      "</details></form>\n{2}{3}",
      escape(keys), options, controls(false), picked.empty() ? "" : charts());
  return layout("Compare runs", fmt::format("data-page=\"compare\" data-keys=\"{}\"", escape(keys)),
                body);
}

std::string url_path_segment(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
      out += char(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::string error_page(int status, const std::string& message) {
  return layout(fmt::format("Error {}", status), "data-page=\"error\"",
                fmt::format("<p class=\"error\">{}</p>\n", escape(message)));
}

}  // namespace stodepth::serve
