-- Rules per destination in Lua 5.3: the same decisions as rules.json.
-- DeidentificationRule(tags, origin, destination) returns a table to allow,
-- { Refuse = "reason" } to refuse, nil when no rule covers the instance.

-- "*" and "?" wildcards, as in the JSON rules.
local function like(value, pattern)
  if value == nil then return false end
  local p = pattern:gsub("[%^%$%(%)%%%.%[%]%+%-]", "%%%0")
  p = p:gsub("%*", ".*")
  p = p:gsub("%?", ".")
  return value:match("^" .. p .. "$") ~= nil
end

local function oneOf(value, list)
  for _, v in ipairs(list) do
    if value == v then return true end
  end
  return false
end

function DeidentificationRule(tags, origin, destination)
  if destination.Kind == "Modality" and oneOf(tags.Modality, { "SR", "KO", "PR" }) then
    return { Rule = "no-sr-to-modalities",
             Refuse = "no structured reports, key objects or presentation states to modalities" }
  end

  if destination.Kind == "Modality" and like(destination.Name, "TRIAL*") and
     oneOf(tags.Modality, { "CT", "MR" }) then
    if origin.Kind == "DicomProtocol" and like(origin.RemoteAet, "CT?") and
       like(tags["0008,0070"], "SIEMENS*") then
      return { Rule = "trial-ct", Profile = "research", Options = { "RetainDeviceIdentity" },
               Project = "trial" }
    end
    return { Rule = "trial-images", Profile = "research", Project = "trial" }
  end

  if (destination.Kind == "Peer" or destination.Kind == "DicomWeb") and
     destination.Name == "REGISTRY" and tags.StationName ~= nil then
    return { Rule = "registry", Profile = "basic" }
  end

  if destination.Kind == "Store" then
    return { Rule = "keep-copy", Profile = "basic", Options = { "RetainUIDs" } }
  end

  return nil   -- not covered: "Uncovered" decides
end
