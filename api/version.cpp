#include "edgert/version.hpp"

namespace edgert {

std::string_view version() noexcept { return "0.1.0"; }

}  // namespace edgert
