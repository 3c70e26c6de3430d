// The edgert C++ API in one include.
#pragma once

#include "edgert/context.hpp"
#include "edgert/device.hpp"
#include "edgert/errc.hpp"
#include "edgert/errors.hpp"
#include "edgert/version.hpp"
