#include "core/status.h"

namespace vigil::core {

std::string_view code_name(Code code) {
  switch (code) {
    case Code::ok: return "ok";
    case Code::not_found: return "not_found";
    case Code::unavailable: return "unavailable";
    case Code::timeout: return "timeout";
    case Code::corruption: return "corruption";
    case Code::invalid_argument: return "invalid_argument";
    case Code::io_error: return "io_error";
    case Code::resource_exhausted: return "resource_exhausted";
    case Code::failed_precondition: return "failed_precondition";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  std::string text(code_name(code_));
  if (!message_.empty()) {
    text += ": ";
    text += message_;
  }
  return text;
}

}  // namespace vigil::core
