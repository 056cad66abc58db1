// Action codes of PS3.15 Table E.1-1a.
#pragma once

#include <string>

namespace Deid
{
  enum class ActionCode
  {
    None,   // empty cell: the option does not change the Basic Profile action
    D,      // replace with a non-zero length dummy value consistent with the VR
    Z,      // replace with a zero length value (or a dummy value)
    X,      // remove (a sequence with all its items)
    K,      // keep (unchanged for non-sequences, cleaned for sequences)
    C,      // clean: replace with values of similar meaning, not identifying
    U,      // replace with a non-zero length UID, internally consistent
    ZD,     // Z/D
    XZ,     // X/Z
    XD,     // X/D
    XZD,    // X/Z/D
    XZU     // X/Z/U*
  };

  // "X/Z/U*" -> ActionCode::XZU, "" -> None. Throws DeidError(BadProfile) otherwise.
  ActionCode ParseActionCode(const std::string& text);

  // The notation of Table E.1-1a, e.g. "X/Z/U*".
  const char* ToString(ActionCode code);
}
