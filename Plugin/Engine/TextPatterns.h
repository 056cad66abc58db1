// What the text cleaner always removes from a cleaned text (PS3.15 E.3.5:
// "Clean Descriptors ... removal of identifying information"), whatever the
// instance: URLs, e-mail addresses, dates, times, phone numbers, ages and
// identifier-like runs of digits, and every word the vocabulary cannot vouch
// for. Measurements with units ("1mm", "5.0 mm", "120kVp", "3T", "512x512")
// are kept. Each detector marks tokens removed with its category.
#pragma once

#include "TextTokens.h"
#include "TextVocabulary.h"

namespace Deid
{
  namespace TextCategory
  {
    extern const char* const IDENTIFYING_VALUE;   // "identifying value"
    extern const char* const DATE;
    extern const char* const TIME;
    extern const char* const PHONE_NUMBER;
    extern const char* const EMAIL_ADDRESS;
    extern const char* const URL;
    extern const char* const IDENTIFIER;
    extern const char* const AGE;
    extern const char* const PERSON_NAME;         // a capitalised name after a title
    extern const char* const UNKNOWN_WORD;
  }

  // Whitespace-separated chunks holding "://", "www." or a known top-level
  // domain ("example.org/x"), and e-mail addresses ("a.b@c.org").
  void MarkUrlsAndEmails(TokenizedText& text);

  // 2023-01-31, 31/01/2023, 01.31.2023, 31-01-23, 01/2023, 20230131 (and a
  // DICOM DT starting so), "Jan 31 2023", "31 January, 2023", "March 2023".
  void MarkDates(TokenizedText& text);

  // 10:30, 10:30:15(.123) with an optional am / pm / h after.
  void MarkTimes(TokenizedText& text);

  // Groups of digits such as +33 1 23 45 67 89, (555) 123-4567, 555.123.4567:
  // 7 to 15 digits in 2 or more groups.
  void MarkPhoneNumbers(TokenizedText& text);

  // "45 y", "45yo", "45 years old": ages are patient characteristics (E.3.9).
  void MarkAges(TokenizedText& text);

  // What is left: numbers of 5 or more digits and letter+digit runs that look
  // like identifiers (MRN12345, A12B34) are removed; measurements, sizes,
  // b-values and short codes (T2, L5, 3D) kept; words kept only if the
  // vocabulary holds them.
  void MarkIdentifiersAndUnknownWords(TokenizedText& text, const TextVocabulary& vocabulary);

  // "Dr. Smith", "Prof. Jane Brown": the capitalised words after a title
  // are a person's name, even when they are English words.
  void MarkPersonNamesAfterTitles(TokenizedText& text);

  // Run last: what is glued to a removed word goes with it: a title before a
  // removed name ("Dr Xylander"), a letter joined by an apostrophe
  // ("O'Xylander", "Xylander's"), numbers joined to an identifier
  // ("2023-000123").
  void MarkTitlesOfRemovedNames(TokenizedText& text);
}
