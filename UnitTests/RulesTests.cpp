// Rules per destination: one table of cases (UnitTests/RulesTable/cases.json)
// decided by the JSON rules (rules.json) and by the equivalent Lua script
// (rules.lua), which must agree with each other and with the expected
// decisions; Lua errors, runaway scripts and bad configurations.
#include "Rules/DicomTagNames.h"
#include "Rules/RuleCriteria.h"
#include "Rules/RuleEngine.h"
#include "Rules/RuleError.h"

#include <json/reader.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

using namespace Deid::Rules;

namespace
{
  std::string TableFile(const std::string& name)
  {
    const char* dir = getenv("DEID_SOURCE_DIR");
    return std::string(dir != nullptr ? dir : DEID_SOURCE_DIR) + "/UnitTests/RulesTable/" + name;
  }

  Json::Value ParseJson(const std::string& text)
  {
    Json::CharReaderBuilder builder;
    Json::Value value;
    std::string errors;
    std::istringstream stream(text);
    if (!Json::parseFromStream(builder, stream, &value, &errors))
    {
      throw std::runtime_error("bad JSON in a test: " + errors);
    }
    return value;
  }

  Json::Value ReadJson(const std::string& path)
  {
    std::ifstream file(path);
    std::stringstream content;
    content << file.rdbuf();
    return ParseJson(content.str());
  }

  // What the plugin checks at start-up, for the profiles, projects and
  // recipients of the table.
  RuleEnvironment TestEnvironment(std::vector<std::string>* log = nullptr)
  {
    RuleEnvironment environment;
    environment.validate = [](const RuleDecision& d)
    {
      static const std::set<std::string> PROFILES = { "", "Basic", "basic", "research" };
      static const std::set<std::string> PROJECTS = { "", "default", "trial" };
      if (PROFILES.count(d.profile) == 0)
      {
        throw std::runtime_error("unknown profile \"" + d.profile + "\"");
      }
      if (PROJECTS.count(d.project) == 0)
      {
        throw std::runtime_error("unknown project \"" + d.project + "\"");
      }
      for (const std::string& r : d.recipients)
      {
        if (r != "custodian")
        {
          throw std::runtime_error("unknown recipient \"" + r + "\"");
        }
      }
    };
    if (log != nullptr)
    {
      environment.logError = [log](const std::string& m) { log->push_back(m); };
    }
    return environment;
  }

  std::string WriteTemporary(const std::string& content)
  {
    char path[] = "/tmp/deid-rules-XXXXXX";
    int fd = mkstemp(path);
    EXPECT_GE(fd, 0);
    FILE* f = fdopen(fd, "w");
    fwrite(content.data(), 1, content.size(), f);
    fclose(f);
    return path;
  }

  std::unique_ptr<RuleEngine> LuaEngine(const std::string& script, std::vector<std::string>* log = nullptr,
                                        const std::string& extra = "")
  {
    const std::string path = WriteTemporary(script);
    Json::Value section = ParseJson("{" + extra + "}");
    section["LuaScript"] = path;
    std::unique_ptr<RuleEngine> engine = RuleEngine::Parse(section, TestEnvironment(log));
    remove(path.c_str());
    return engine;
  }

  RuleInput MakeInput(const Json::Value& c)
  {
    RuleInput input;
    input.destination.kind = c["Destination"]["Kind"].asString();
    input.destination.name = c["Destination"]["Name"].asString();
    input.origin.kind = c["Origin"].isMember("Kind") ? c["Origin"]["Kind"].asString() : "Unknown";
    input.origin.remoteAet = c["Origin"]["RemoteAet"].asString();
    input.origin.calledAet = c["Origin"]["CalledAet"].asString();
    input.origin.remoteIp = c["Origin"]["RemoteIp"].asString();
    for (const std::string& name : c["Tags"].getMemberNames())
    {
      std::string key;
      EXPECT_TRUE(ParseAttribute(name, key)) << name;
      input.tags[key] = c["Tags"][name].asString();
    }
    return input;
  }

  Json::Value Strings(const std::vector<std::string>& values)
  {
    Json::Value result(Json::arrayValue);
    for (const std::string& v : values)
    {
      result.append(v);
    }
    return result;
  }

  RuleDecision DecideOne(const RuleEngine& engine, const std::string& modality,
                         const std::string& kind = "Modality", const std::string& name = "TRIAL1")
  {
    RuleInput input;
    input.destination.kind = kind;
    input.destination.name = name;
    input.origin.kind = "RestApi";
    input.tags["0008,0060"] = modality;
    input.tags["0010,0010"] = "Doe^Jane";
    return engine.Decide(input);
  }

  std::string ConfigurationError(const std::string& rulesSection)
  {
    try
    {
      RuleEngine::Parse(ParseJson(rulesSection), TestEnvironment());
    }
    catch (const RuleConfigurationError& e)
    {
      return e.what();
    }
    return "(no error)";
  }
}


TEST(Rules, TableGivesTheSameDecisionsWithJsonAndLua)
{
  const Json::Value rules = ReadJson(TableFile("rules.json"));
  const Json::Value cases = ReadJson(TableFile("cases.json"));
  ASSERT_GE(cases.size(), 10u);

  std::unique_ptr<RuleEngine> json = RuleEngine::Parse(rules, TestEnvironment());
  Json::Value luaSection(Json::objectValue);
  luaSection["LuaScript"] = TableFile("rules.lua");
  std::unique_ptr<RuleEngine> lua = RuleEngine::Parse(luaSection, TestEnvironment());

  for (const Json::Value& c : cases)
  {
    SCOPED_TRACE(c["Case"].asString());
    const RuleInput input = MakeInput(c);
    const Json::Value& expected = c["Expected"];

    for (const RuleEngine* engine : { json.get(), lua.get() })
    {
      const RuleDecision d = engine->Decide(input);
      SCOPED_TRACE(d.reason);
      EXPECT_EQ(expected["Allowed"].asBool(), d.allowed);
      EXPECT_EQ(expected["Rule"].asString(), d.rule);
      EXPECT_EQ(expected["Profile"].asString(), d.profile);
      EXPECT_EQ(expected.isMember("Options") ? expected["Options"] : Json::Value(Json::arrayValue), Strings(d.options));
      EXPECT_TRUE(d.recipients.empty());
      EXPECT_EQ(expected["Project"].asString(), d.project);
      EXPECT_FALSE(d.reason.empty());

      // No value of the instance or of its origin in the reason (the
      // destination and the configured patterns may appear).
      for (const auto& tag : input.tags)
      {
        if (tag.second.size() >= 3)
        {
          EXPECT_EQ(std::string::npos, d.reason.find(tag.second)) << tag.first;
        }
      }
      for (const std::string* value : { &input.origin.remoteAet, &input.origin.remoteIp, &input.origin.calledAet })
      {
        if (!value->empty())
        {
          EXPECT_EQ(std::string::npos, d.reason.find(*value));
        }
      }
    }

    // The JSON reason says which rule decided and what matched.
    const RuleDecision d = json->Decide(input);
    if (d.rule.empty())
    {
      EXPECT_EQ(0u, d.reason.find("no rule covers " + input.destination.Describe())) << d.reason;
    }
    else
    {
      EXPECT_EQ(0u, d.reason.find("rule \"" + d.rule + "\"")) << d.reason;
    }
  }
}


TEST(Rules, JsonReasonNamesAttributesAndPatterns)
{
  std::unique_ptr<RuleEngine> engine = RuleEngine::Parse(ReadJson(TableFile("rules.json")), TestEnvironment());
  RuleInput input;
  input.destination = { "Modality", "TRIAL7" };
  input.origin = { "DicomProtocol", "CT1", "DEIDTEST", "10.0.0.1" };
  input.tags["0008,0060"] = "MR";
  input.tags["0008,0070"] = "SIEMENS Healthineers";
  EXPECT_EQ("rule \"trial-ct\": Destination Modality TRIAL*, Origin DicomProtocol, RemoteAet CT?, "
            "Modality MR, Manufacturer SIEMENS*", engine->Decide(input).reason);

  input.tags["0008,0060"] = "SR";
  EXPECT_EQ("rule \"no-sr-to-modalities\" refuses: no structured reports, key objects or presentation "
            "states to modalities (Destination Modality, Modality SR)", engine->Decide(input).reason);

  input.destination = { "Modality", "PACS" };
  input.tags["0008,0060"] = "CT";
  EXPECT_EQ("no rule covers Modality \"PACS\" (Deidentification.Rules.Uncovered is \"Refuse\")",
            engine->Decide(input).reason);
}


TEST(Rules, WildcardsAndLists)
{
  EXPECT_TRUE(PatternList::Matches("CT*", "CT"));
  EXPECT_TRUE(PatternList::Matches("CT*", "CT12"));
  EXPECT_TRUE(PatternList::Matches("*", ""));
  EXPECT_TRUE(PatternList::Matches("C?", "CT"));
  EXPECT_FALSE(PatternList::Matches("C?", "C"));
  EXPECT_TRUE(PatternList::Matches("*SIEMENS*", "A SIEMENS B"));
  EXPECT_TRUE(PatternList::Matches("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(PatternList::Matches("a*b*c", "aXbYbZ"));
  EXPECT_FALSE(PatternList::Matches("ct", "CT"));   // case-sensitive
  EXPECT_TRUE(PatternList::Matches("ORIGINAL\\PRIMARY*", "ORIGINAL\\PRIMARY\\AXIAL"));
  EXPECT_FALSE(PatternList::Matches("", "X"));
  EXPECT_TRUE(PatternList::Matches("", ""));

  // Long pathological input stays fast (no exponential backtracking).
  const std::string value(20000, 'a');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(PatternList::Matches("*a*a*a*a*a*a*a*b", value));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));

  PatternList list = PatternList::Parse(ParseJson("[\"CT\", \"M?\"]"), "test");
  ASSERT_NE(nullptr, list.FindMatch("MR"));
  EXPECT_EQ("M?", *list.FindMatch("MR"));
  EXPECT_EQ(nullptr, list.FindMatch("SR"));
}


TEST(Rules, AttributesByKeywordOrTag)
{
  std::string key;
  EXPECT_TRUE(ParseAttribute("Modality", key));
  EXPECT_EQ("0008,0060", key);
  EXPECT_TRUE(ParseAttribute("SOPClassUID", key));
  EXPECT_EQ("0008,0016", key);
  EXPECT_TRUE(ParseAttribute("0009,10AB", key));
  EXPECT_EQ("0009,10ab", key);
  EXPECT_FALSE(ParseAttribute("Modalty", key));
  EXPECT_FALSE(ParseAttribute("0008,006", key));
  EXPECT_EQ("StationName", GetKeyword("0008,1010"));
  EXPECT_EQ("", GetKeyword("0009,10ab"));

  std::unique_ptr<RuleEngine> engine = RuleEngine::Parse(ParseJson(R"({ "List": [
    { "Name": "private", "Match": { "0009,10AB": "X*", "SOPClassUID": "1.2.840.10008.5.1.4.1.1.2" } } ] })"),
    TestEnvironment());
  RuleInput input;
  input.destination = { "Store", "" };
  input.tags["0009,10ab"] = "XYZ";
  input.tags["0008,0016"] = "1.2.840.10008.5.1.4.1.1.2";
  RuleDecision d = engine->Decide(input);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ("rule \"private\": SOPClassUID 1.2.840.10008.5.1.4.1.1.2, 0009,10ab X*", d.reason);   // tag order
  input.tags.erase("0009,10ab");
  EXPECT_FALSE(engine->Decide(input).allowed);   // an absent attribute matches no pattern
}


TEST(Rules, UncoveredProfileAllows)
{
  std::unique_ptr<RuleEngine> engine = RuleEngine::Parse(ParseJson(R"({ "Uncovered": "basic" })"), TestEnvironment());
  RuleDecision d = DecideOne(*engine, "CT", "Peer", "ELSEWHERE");
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ("", d.rule);
  EXPECT_EQ("basic", d.profile);
  EXPECT_EQ("no rule covers Peer \"ELSEWHERE\"; Deidentification.Rules.Uncovered allows it with profile \"basic\"",
            d.reason);

  // No section at all: everything refused (fail closed).
  d = DecideOne(*RuleEngine::Parse(Json::Value(), TestEnvironment()), "CT");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(0u, d.reason.find("no rule covers Modality \"TRIAL1\""));
}


TEST(Rules, LuaSeesTagsOriginAndDestination)
{
  std::unique_ptr<RuleEngine> engine = LuaEngine(R"(
    function DeidentificationRule(tags, origin, destination)
      if tags.Modality == tags["0008,0060"] and tags["0009,10AB"] == tags["0009,10ab"] and
         tags["0009,10ab"] == "P" and origin.Kind == "DicomProtocol" and origin.RemoteAet == "CT1" and
         origin.CalledAet == "ME" and origin.RemoteIp == "10.0.0.1" and destination.Kind == "Peer" and
         destination.Name == "REGISTRY" then
        return { Rule = "seen", Profile = "research", Options = { "RetainUIDs", "113105" },
                 Recipients = { "custodian" }, Project = "trial" }
      end
      return false, "not seen"
    end)");
  RuleInput input;
  input.destination = { "Peer", "REGISTRY" };
  input.origin = { "DicomProtocol", "CT1", "ME", "10.0.0.1" };
  input.tags["0008,0060"] = "CT";
  input.tags["0009,10ab"] = "P";
  RuleDecision d = engine->Decide(input);
  EXPECT_TRUE(d.allowed) << d.reason;
  EXPECT_EQ("seen", d.rule);
  EXPECT_EQ("research", d.profile);
  EXPECT_EQ(Strings({ "RetainUIDs", "113105" }), Strings(d.options));
  EXPECT_EQ(Strings({ "custodian" }), Strings(d.recipients));
  EXPECT_EQ("trial", d.project);

  input.origin.remoteAet = "CT2";
  d = engine->Decide(input);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ("lua", d.rule);
  EXPECT_EQ("Lua rule \"lua\" refuses: not seen", d.reason);
}


TEST(Rules, LuaErrorsRefuseAndAreLoggedWithoutBreakingTheState)
{
  std::vector<std::string> log;
  std::unique_ptr<RuleEngine> engine = LuaEngine(R"(
    function DeidentificationRule(tags, origin, destination)
      if tags.Modality == "CT" then error("boom " .. tags.PatientName .. "\n\1") end
      if tags.Modality == "MR" then return 42 end
      if tags.Modality == "US" then return { Profile = "unknown" } end
      if tags.Modality == "XA" then return { Profile = "basic", Extra = 1 } end
      if tags.Modality == "NM" then return { Refuse = "no", Profile = "basic" } end
      if tags.Modality == "PT" then return { Options = "RetainUIDs" } end
      if tags.Modality == "RF" then return setmetatable({}, { __index = function() error("meta") end }) end
      if tags.Modality == "DX" then return true end
      return { Rule = "ok", Profile = "basic" }
    end)", &log);

  RuleDecision d = DecideOne(*engine, "CT");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ("Lua rule script failed: error in DeidentificationRule (details in the Orthanc log)", d.reason);
  ASSERT_EQ(1u, log.size());
  EXPECT_NE(std::string::npos, log[0].find("boom Doe^Jane\\x0A\\x01"));   // escaped; the script's own text
  EXPECT_FALSE(DecideOne(*engine, "CT").allowed);
  EXPECT_EQ(1u, log.size());   // the same error again is not logged again within a minute

  for (const char* modality : { "MR", "US", "XA", "NM", "PT", "DX" })
  {
    d = DecideOne(*engine, modality);
    EXPECT_FALSE(d.allowed) << modality;
    EXPECT_EQ(std::string::npos, d.reason.find("Doe")) << d.reason;
  }
  EXPECT_NE(std::string::npos, DecideOne(*engine, "US").reason.find("not configured: unknown profile"));
  EXPECT_NE(std::string::npos, DecideOne(*engine, "XA").reason.find("unknown key \"Extra\""));

  d = DecideOne(*engine, "RF");   // metamethods are not run on the result: allowed by its raw content
  EXPECT_TRUE(d.allowed) << d.reason;

  d = DecideOne(*engine, "OT");   // the state still works after errors
  EXPECT_TRUE(d.allowed) << d.reason;
  EXPECT_EQ("ok", d.rule);
}


TEST(Rules, LuaRunawayScriptsAreStopped)
{
  std::vector<std::string> log;
  std::unique_ptr<RuleEngine> engine = LuaEngine(R"(
    function DeidentificationRule(tags, origin, destination)
      if tags.Modality == "CT" then while true do end end
      if tags.Modality == "MR" then
        local t = {}
        while true do t[#t + 1] = string.rep("x", 1000000) .. #t end
      end
      return { Rule = "ok" }
    end)", &log, "\"LuaInstructionLimit\": 200000, \"LuaMemoryLimit\": 16");

  const auto start = std::chrono::steady_clock::now();
  RuleDecision d = DecideOne(*engine, "CT");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ("Lua rule script failed: the instruction limit (200000) was reached", d.reason);
  d = DecideOne(*engine, "MR");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ("Lua rule script failed: the memory limit (16 MB) was reached", d.reason);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  ASSERT_EQ(2u, log.size());
  EXPECT_NE(std::string::npos, log[1].find("memory limit")) << log[1];

  d = DecideOne(*engine, "US");
  EXPECT_TRUE(d.allowed) << d.reason;

  // Finalizers run without the instruction limit: they are refused.
  engine = LuaEngine(R"(
    function DeidentificationRule(tags, origin, destination)
      setmetatable({}, { __gc = function() while true do end end })
      return setmetatable({ Rule = "meta" }, { __index = {} })
    end)", &log);
  d = DecideOne(*engine, "CT");
  EXPECT_FALSE(d.allowed);
  EXPECT_NE(std::string::npos, log.back().find("__gc metamethods are not allowed")) << log.back();
}


TEST(Rules, LuaIsSandboxed)
{
  std::unique_ptr<RuleEngine> engine = LuaEngine(R"(
    local escapes = { io = io, os = os, require = require, load = load, loadfile = loadfile,
                      dofile = dofile, pcall = pcall, xpcall = xpcall, print = print,
                      package = package, debug = debug, coroutine = coroutine,
                      collectgarbage = collectgarbage, dump = string.dump }
    function DeidentificationRule(tags, origin, destination)
      for name, value in pairs(escapes) do
        return false, name .. " is reachable"
      end
      if string.upper("a") ~= "A" or math.max(1, 2) ~= 2 or table.concat({ "a", "b" }) ~= "ab" then
        return false, "missing library"
      end
      return { Rule = "sandboxed" }
    end)");
  RuleDecision d = DecideOne(*engine, "CT");
  EXPECT_TRUE(d.allowed) << d.reason;
  EXPECT_EQ("sandboxed", d.rule);
}


TEST(Rules, BadConfigurationsAreErrors)
{
  EXPECT_EQ("Deidentification.Rules.List rule \"a\".Match: \"Modalty\" is neither a DICOM keyword of the data "
            "dictionary nor a tag \"gggg,eeee\"",
            ConfigurationError(R"({ "List": [ { "Name": "a", "Match": { "Modalty": "CT" } } ] })"));
  EXPECT_NE(std::string::npos, ConfigurationError(
    R"({ "List": [ { "Name": "a", "Destination": { "Kind": "Printer" } } ] })").find(
      "rule \"a\".Destination.Kind: unknown kind \"Printer\""));
  EXPECT_NE(std::string::npos, ConfigurationError(
    R"({ "List": [ { "Name": "a", "Origin": { "Kind": "Fax" } } ] })").find("rule \"a\".Origin.Kind: unknown kind"));
  EXPECT_NE(std::string::npos, ConfigurationError(
    R"({ "List": [ { "Name": "a", "Origin": { "RemoteAET": "X" } } ] })").find("unknown key \"RemoteAET\""));
  EXPECT_NE(std::string::npos, ConfigurationError(
    R"({ "List": [ { "Name": "a", "Profile": "nope" } ] })").find("rule \"a\": unknown profile \"nope\""));
  EXPECT_NE(std::string::npos, ConfigurationError(
    R"({ "List": [ { "Name": "a", "Project": "nope" } ] })").find("rule \"a\": unknown project \"nope\""));
  EXPECT_NE(std::string::npos, ConfigurationError(
    R"({ "List": [ { "Name": "a", "Recipients": [ "nobody" ] } ] })").find("unknown recipient \"nobody\""));
  EXPECT_NE(std::string::npos, ConfigurationError(
    R"({ "List": [ { "Name": "a", "Refuse": "no", "Profile": "basic" } ] })").find(
      "a refusing rule cannot have \"Profile\""));
  EXPECT_NE(std::string::npos, ConfigurationError(
    R"({ "List": [ { "Name": "a" }, { "Name": "a" } ] })").find("two rules have this name"));
  EXPECT_NE(std::string::npos, ConfigurationError(
    R"({ "List": [ { "Match": {} } ] })").find("List[0] must be a JSON object with a non-empty \"Name\""));
  EXPECT_NE(std::string::npos, ConfigurationError(
    R"({ "List": [ { "Name": "a", "Profil": "basic" } ] })").find("unknown key \"Profil\""));
  EXPECT_NE(std::string::npos, ConfigurationError(
    R"({ "List": [ { "Name": "a", "Match": { "Modality": 3 } } ] })").find("Match.Modality must be a string"));
  EXPECT_NE(std::string::npos, ConfigurationError(R"({ "Uncovered": "nope" })").find(
    "Deidentification.Rules.Uncovered: unknown profile \"nope\""));
  EXPECT_NE(std::string::npos, ConfigurationError(R"({ "Rule": [] })").find("unknown key \"Rule\""));
  EXPECT_NE(std::string::npos, ConfigurationError(R"({ "LuaScript": "/nonexistent/rules.lua" })").find(
    "cannot read the file"));

  for (const char* script : { "function DeidentificationRule(", "x = 1", "error('at load')",
                              "while true do end", "setmetatable({}, { __gc = function() end })\nfunction DeidentificationRule() end" })
  {
    const std::string path = WriteTemporary(script);
    const std::string error = ConfigurationError("{ \"LuaScript\": \"" + path + "\", \"LuaInstructionLimit\": 100000 }");
    EXPECT_EQ(0u, error.find("Deidentification.Rules.LuaScript")) << script << ": " << error;
    remove(path.c_str());
  }

  // Precompiled Lua is refused: text only.
  const std::string path = WriteTemporary(std::string("\x1bLua\x53", 5) + std::string(40, '\0'));
  EXPECT_NE(std::string::npos, ConfigurationError("{ \"LuaScript\": \"" + path + "\" }").find("binary"));
  remove(path.c_str());
}


TEST(Rules, ConcurrentDecisionsShareOneLuaState)
{
  Json::Value luaSection(Json::objectValue);
  luaSection["LuaScript"] = TableFile("rules.lua");
  std::unique_ptr<RuleEngine> lua = RuleEngine::Parse(luaSection, TestEnvironment());
  std::unique_ptr<RuleEngine> json = RuleEngine::Parse(ReadJson(TableFile("rules.json")), TestEnvironment());
  std::vector<RuleInput> inputs;
  for (const Json::Value& c : ReadJson(TableFile("cases.json")))
  {
    inputs.push_back(MakeInput(c));
  }

  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (size_t t = 0; t < 4; t++)
  {
    threads.emplace_back([&, t]()
    {
      for (int round = 0; round < 50; round++)
      {
        for (const RuleInput& input : inputs)
        {
          const RuleDecision a = lua->Decide(input);
          const RuleDecision b = json->Decide(input);
          if (a.allowed != b.allowed || a.rule != b.rule || a.profile != b.profile)
          {
            mismatches[t]++;
          }
        }
      }
    });
  }
  for (std::thread& t : threads)
  {
    t.join();
  }
  EXPECT_EQ(std::vector<int>(4, 0), mismatches);
}
