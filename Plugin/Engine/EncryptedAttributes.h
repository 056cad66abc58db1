// The Encrypted Attributes Data Set of PS3.15 E.1.1 (step 4): the original
// values of the protected attributes, as the single item of Modified
// Attributes Sequence (0400,0550), encoded in Explicit VR Little Endian and
// encrypted as CMS EnvelopedData (RFC 5652) with RSA key transport to one or
// more recipient certificates (RFC 3370, RFC 3565), stored as an item of
// Encrypted Attributes Sequence (0400,0500). Interoperable with GDCM's
// gdcmanon (-e / -d).
#pragma once

#include <dcmtk/dcmdata/dcitem.h>

#include <memory>
#include <string>
#include <vector>

namespace Deid
{
  // Content-encryption algorithms allowed by PS3.15 E.1.1 (AES, Triple-DES).
  enum class ContentCipher
  {
    AES256,      // AES-256-CBC (default, as gdcmanon)
    AES128,      // AES-128-CBC
    TripleDES    // DES-EDE3-CBC, 168-bit key (ANSI X9.52)
  };

  // "AES256" | "AES128" | "TripleDES" (case-insensitive; "AES-256-CBC",
  // "AES-128-CBC", "DES-EDE3-CBC", "3DES" also accepted). Throws
  // DeidError(BadOption) otherwise.
  ContentCipher ParseContentCipher(const std::string& text);

  const char* ToString(ContentCipher cipher);   // "AES256", ...

  // The transfer syntax of the Encrypted Attributes Data Set we write
  // (Explicit VR Little Endian, as GDCM).
  extern const char* const ENCRYPTED_CONTENT_TRANSFER_SYNTAX;

  enum class ContentDigest
  {
    Verified,   // our digest is present and matches
    Absent,     // no digest (made by another implementation, e.g. gdcmanon -e)
    Mismatch    // our digest is present and does not match: corrupted content
  };

  // Checks the digest of a decrypted Encrypted Attributes Data Set made by
  // EncodeEncryptedAttributesDataSet().
  ContentDigest CheckContentDigest(const std::string& content);

  // The set of recipients of the Encrypted Attributes Data Set. Parses the
  // certificates once; immutable afterwards, so one instance can be shared by
  // many threads (e.g. a job de-identifying several instances at once).
  class EncryptedAttributesWriter
  {
  private:
    struct Recipients;
    std::shared_ptr<Recipients> recipients_;
    ContentCipher cipher_;

  public:
    // Each string holds one or more PEM certificates with RSA public keys
    // (PS3.15 E.1.1 requires RSA key transport). Throws DeidError(Crypto)
    // for unreadable or non-RSA certificates, DeidError(BadOption) if empty.
    EncryptedAttributesWriter(const std::vector<std::string>& certificatePems,
                              ContentCipher cipher = ContentCipher::AES256);

    ContentCipher GetCipher() const { return cipher_; }
    size_t GetRecipientCount() const;

    // The Encrypted Attributes Data Set (a dataset whose only element is
    // Modified Attributes Sequence with one item holding a copy of
    // "originals"), in Explicit VR Little Endian with undefined lengths.
    static std::string EncodeModifiedAttributes(const DcmItem& originals);

    // What Protect() encrypts: EncodeModifiedAttributes() followed by a
    // private block (0401,0010) "OrthancDeidentification 1" with
    // (0401,1001) OB = SHA-256 of the Modified Attributes Sequence encoding.
    // CMS EnvelopedData with CBC (RFC 3370, RFC 3565, as PS3.15 requires)
    // has no integrity protection: the digest lets our re-identifier refuse
    // corrupted content instead of restoring wrong values. Readers that only
    // take the Modified Attributes Sequence (gdcmanon -d, E.1.2) ignore it.
    static std::string EncodeEncryptedAttributesDataSet(const DcmItem& originals);

    // CMS EnvelopedData (DER) of "content" for all recipients.
    std::string Encrypt(const std::string& content) const;

    // PS3.15 E.1.1: encrypts "originals" and appends an item with Encrypted
    // Content Transfer Syntax UID (0400,0510) and Encrypted Content
    // (0400,0520) to Encrypted Attributes Sequence (0400,0500) of "dataset".
    // If "originals" lacks SOP Instance UID (0008,0018), the value present in
    // "dataset" is added to the encrypted item (E.1.1 step 5: SOP Instance UID
    // is always protected; GDCM's re-identifier requires it).
    void Protect(DcmItem& dataset, const DcmItem& originals) const;
  };
}
