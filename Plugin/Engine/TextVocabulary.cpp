#include "TextVocabulary.h"

#include "DeidError.h"
#include "ProfileTables.h"

#include <json/reader.h>
#include <json/value.h>

#include <memory>

namespace Deid
{
  namespace
  {
    const char* const VOCABULARY_FILE = "Vocabulary.json";
  }

  TextVocabulary::TextVocabulary(const std::string& frontCodedWords)
  {
    std::string previous;
    size_t i = 0;
    while (i < frontCodedWords.size())
    {
      size_t end = frontCodedWords.find(' ', i);
      if (end == std::string::npos)
      {
        end = frontCodedWords.size();
      }
      if (end > i)
      {
        size_t shared = static_cast<size_t>(frontCodedWords[i] - 'A');
        if (frontCodedWords[i] < 'A' || frontCodedWords[i] > 'Z' || shared > previous.size())
        {
          throw DeidError(ErrorCode::Internal, "Malformed embedded vocabulary");
        }
        std::string word = previous.substr(0, shared) + frontCodedWords.substr(i + 1, end - i - 1);
        words_.insert(word);
        previous.swap(word);
      }
      i = end + 1;
    }
  }

  const TextVocabulary& TextVocabulary::Get()
  {
    static const TextVocabulary vocabulary = []
    {
      const std::map<std::string, std::string>& files = EmbeddedProfileFiles();
      auto found = files.find(VOCABULARY_FILE);
      if (found == files.end())
      {
        throw DeidError(ErrorCode::Internal, "The embedded vocabulary is missing");
      }
      Json::CharReaderBuilder builder;
      std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
      Json::Value root;
      std::string errors;
      const std::string& text = found->second;
      if (!reader->parse(text.data(), text.data() + text.size(), &root, &errors) ||
          !root.isObject() || !root["Words"].isString())
      {
        throw DeidError(ErrorCode::Internal, "Malformed embedded vocabulary");
      }
      return TextVocabulary(root["Words"].asString());
    }();
    return vocabulary;
  }
}
