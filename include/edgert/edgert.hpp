// The edgert C++ API in one include.
#pragma once

#include "edgert/context.hpp"
#include "edgert/device.hpp"
#include "edgert/errc.hpp"
#include "edgert/errors.hpp"
#include "edgert/model.hpp"
#include "edgert/model_instance.hpp"
#include "edgert/runner.hpp"
#include "edgert/tensor.hpp"
#include "edgert/version.hpp"
