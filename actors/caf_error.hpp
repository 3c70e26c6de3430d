// Carrying edgert's errc through CAF: actors answer failed requests with a caf::error in
// the "edgert" category whose code is the errc value and whose context is the message.
// from_caf_error() turns any caf::error (ours, or CAF's own such as request_timeout) back
// into an edgert failure for the facade.
#pragma once

#include <caf/error.hpp>

#include "common/result.hpp"

namespace edgert {

/// The CAF error category atom of edgert errors.
caf::atom_value edgert_error_category() noexcept;

caf::error to_caf_error(errc code, std::string message);
caf::error to_caf_error(const failure& f);

/// Maps our category back to errc; CAF's request_timeout to timeout; a dead or
/// unreachable actor to connection_error; anything else to internal_error.
failure from_caf_error(const caf::error& e);

/// Renders an edgert caf::error for CAF's diagnostics ("device_in_use: ...").
std::string render_edgert_error(std::uint8_t code, caf::atom_value category,
                                const caf::message& context);

}  // namespace edgert
