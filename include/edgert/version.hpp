#pragma once

#include <string_view>

namespace edgert {

/// The library version, "major.minor.patch".
std::string_view version() noexcept;

}  // namespace edgert
