// Action codes of PS3.15 Table E.1-1a.
#include "ActionCode.h"

#include "DeidError.h"

namespace Deid
{
  namespace
  {
    struct ActionCodeName
    {
      ActionCode code;
      const char* text;
    };

    // The notation of Table E.1-1a.
    const ActionCodeName ACTION_CODE_NAMES[] =
    {
      { ActionCode::None, "" },
      { ActionCode::D, "D" },
      { ActionCode::Z, "Z" },
      { ActionCode::X, "X" },
      { ActionCode::K, "K" },
      { ActionCode::C, "C" },
      { ActionCode::U, "U" },
      { ActionCode::ZD, "Z/D" },
      { ActionCode::XZ, "X/Z" },
      { ActionCode::XD, "X/D" },
      { ActionCode::XZD, "X/Z/D" },
      { ActionCode::XZU, "X/Z/U*" }
    };
  }

  ActionCode ParseActionCode(const std::string& text)
  {
    for (const ActionCodeName& n : ACTION_CODE_NAMES)
    {
      if (text == n.text)
      {
        return n.code;
      }
    }

    throw DeidError(ErrorCode::BadProfile, "Unknown action code in profile: \"" + text + "\"");
  }

  const char* ToString(ActionCode code)
  {
    for (const ActionCodeName& n : ACTION_CODE_NAMES)
    {
      if (code == n.code)
      {
        return n.text;
      }
    }

    return "?";
  }
}
