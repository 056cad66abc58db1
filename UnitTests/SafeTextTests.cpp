// Caller text in logs and errors: escaped and bounded.
#include "Engine/SafeText.h"

#include <gtest/gtest.h>

using namespace Deid;

TEST(SafeText, EscapesControlCharactersQuotesAndNonAscii)
{
  EXPECT_EQ("a\\nb\\rc\\td", SafeText::Escape("a\nb\rc\td"));
  EXPECT_EQ("\\x1b[31mred\\x00\\x7f", SafeText::Escape(std::string("\x1b[31mred\0\x7f", 10)));
  EXPECT_EQ("say \\\"hi\\\" \\\\ ok", SafeText::Escape("say \"hi\" \\ ok"));
  EXPECT_EQ("caf\\xc3\\xa9", SafeText::Escape("caf\xc3\xa9"));
  EXPECT_EQ("\"x\\ny\"", SafeText::Quote("x\ny"));
}

TEST(SafeText, CutsToAFixedLength)
{
  const std::string big(1024 * 1024, 'A');
  EXPECT_EQ(std::string(64, 'A') + "...", SafeText::Escape(big));
  EXPECT_EQ(std::string(10, 'A') + "...", SafeText::Escape(big, 10));
  EXPECT_EQ(std::string(64, 'A'), SafeText::Escape(std::string(64, 'A')));
  // the worst case: every byte escaped
  EXPECT_LE(SafeText::Escape(std::string(1000, '\x01')).size(), 64u * 4 + 3);
}

TEST(SafeText, MessageKeepsTextButNoControlCharacter)
{
  EXPECT_EQ("Unknown \"x\\\\n\" caf\xc3\xa9", SafeText::Message("Unknown \"x\\\\n\" caf\xc3\xa9"));
  EXPECT_EQ("line\\nW forged\\x1b", SafeText::Message("line\nW forged\x1b"));
  EXPECT_EQ(std::string(2048, 'B') + "...", SafeText::Message(std::string(5000, 'B')));
  // idempotent on escaped text
  const std::string once = SafeText::Message(SafeText::Quote("a\nb"));
  EXPECT_EQ(once, SafeText::Message(once));
}
