// The sub-device actor: one per core or processing element of a board.
//
// Spawned and owned by its device actor (it dies with it). It records which lease holds
// the core and the clock and utilisation the board applied; the job queue and double
// buffering of model execution live here too once models run.
#pragma once

#include <caf/fwd.hpp>

#include "actors/protocol.hpp"

namespace edgert {

sub_device_actor spawn_sub_device_actor(caf::local_actor* parent, unsigned index);

}  // namespace edgert
