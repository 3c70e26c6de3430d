#include "actors/caf_error.hpp"

#include <caf/atom.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace edgert {

caf::atom_value edgert_error_category() noexcept { return caf::atom("edgert"); }

caf::error to_caf_error(errc code, std::string message) {
  return caf::error(static_cast<std::uint8_t>(code), edgert_error_category(),
                    caf::make_message(std::move(message)));
}

caf::error to_caf_error(const failure& f) { return to_caf_error(f.code, f.message); }

namespace {

std::string context_text(const caf::message& context) {
  if (context.match_elements<std::string>()) return context.get_as<std::string>(0);
  return context.empty() ? std::string{} : to_string(context);
}

}  // namespace

failure from_caf_error(const caf::error& e) {
  if (!e) return fail(errc::internal_error, "an empty error was reported as a failure");
  if (e.category() == edgert_error_category())
    return fail(static_cast<errc>(e.code()), context_text(e.context()));
  if (e.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(e.code())) {
      case caf::sec::request_timeout:
        return fail(errc::timeout, "the runtime did not answer in time");
      case caf::sec::request_receiver_down:
      case caf::sec::invalid_argument:
        return fail(errc::connection_error, "the actor serving this request is gone");
      default:
        break;
    }
  }
  if (e.category() == caf::atom("exit"))
    return fail(errc::connection_error, "the actor serving this request has exited");
  return fail(errc::internal_error, "unexpected runtime error: " + to_string(e));
}

std::string render_edgert_error(std::uint8_t code, caf::atom_value,
                                const caf::message& context) {
  std::string text(to_string(static_cast<errc>(code)));
  auto detail = context_text(context);
  if (!detail.empty()) text += ": " + detail;
  return text;
}

}  // namespace edgert
