#pragma once
// A writer of the Prometheus text exposition format (version 0.0.4): one HELP and one TYPE
// line per metric family, then its samples, label values escaped (\\, \", \n) and HELP text
// escaped (\\, \n), values as Go's strconv would print them (integers without a fraction,
// +Inf, -Inf, NaN). https://prometheus.io/docs/instrumenting/exposition_formats/

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/histogram.h"

namespace vigil::net {

using Labels = std::vector<std::pair<std::string, std::string>>;

std::string escape_label_value(std::string_view value);
std::string escape_help(std::string_view help);
std::string format_sample_value(double value);
// A metric name made of [a-zA-Z0-9_:] (others become '_'; a leading digit gets a '_').
std::string sanitize_metric_name(std::string_view name);

class PrometheusText {
 public:
  // Starts a family. `type`: "counter", "gauge" or "histogram". REQUIRES: each family is
  // begun once, and its samples follow before the next family begins.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, const Labels& labels, double value);
  // name_bucket{...,le="..."} (cumulative), name_sum, name_count.
  void histogram(std::string_view name, const Labels& labels, const Histogram& histogram);

  const std::string& text() const { return text_; }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

}  // namespace vigil::net
