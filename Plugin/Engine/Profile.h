// A de-identification profile: the Basic Application Level Confidentiality
// Profile of PS3.15 E.1 plus a set of Options (E.3), resolved per attribute
// from Table E.1-1. Immutable once built: one instance is shared read-only by
// all threads.
#pragma once

#include "BurnedInText.h"
#include "ProfileTables.h"

#include <dcmtk/dcmdata/dctagkey.h>

#include <bitset>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

namespace Deid
{
  struct ResolvedAction
  {
    ActionCode action = ActionCode::None;   // None: not listed in Table E.1-1, keep
    std::optional<Option> chosenBy;         // the option whose column chose the action, if any
    const AttributeRule* rule = nullptr;    // the row of Table E.1-1, if any
  };

  class Profile
  {
  public:
    // Throws DeidError(BadOption) for option combinations that PS3.15 forbids.
    // burnedInText: which instances a profile without CleanPixelData refuses.
    Profile(std::shared_ptr<const ProfileTables> tables,
            const OptionSet& options,
            const std::string& name = "Basic",
            const BurnedInTextPolicy& burnedInText = BurnedInTextPolicy::Default());

    const std::string& GetName() const { return name_; }
    const OptionSet& GetOptions() const { return options_; }
    const ProfileTables& GetTables() const { return *tables_; }
    const BurnedInTextPolicy& GetBurnedInTextPolicy() const { return burnedInText_; }

    // The action for a standard attribute (even group), after options.
    ResolvedAction Resolve(const DcmTagKey& tag) const;

    // The action for a private attribute given its private creator (empty if
    // unknown): X, or C->keep when RetainSafePrivate and it is in Table E.3.10-1.
    ResolvedAction ResolvePrivate(const std::string& privateCreator, const DcmTagKey& tag) const;

    // "113100" then the codes of the options applied, in CID 7050 order.
    std::vector<MethodCode> GetMethodCodes() const;

    // Text for DeidentificationMethod (0012,0063), e.g.
    // "PS3.15 2026c Basic Profile; CleanDescriptors; RetainUIDs".
    std::string GetMethodDescription() const;

  private:
    std::shared_ptr<const ProfileTables> tables_;
    OptionSet options_;
    std::string name_;
    BurnedInTextPolicy burnedInText_;

    // Resolved once when the profile is built (it is immutable), so that
    // the walk does not re-resolve the options for every element: the
    // action of every exact row of Table E.1-1, and the groups that a mask
    // row (e.g. (50xx,xxxx)) may match. Any other tag is not listed: keep.
    std::unordered_map<uint32_t, ResolvedAction> exactActions_;
    std::bitset<65536> maskedGroups_;

    ResolvedAction ResolveUncached(const DcmTagKey& tag) const;
  };
}
