// Re-identifier of PS3.15 E.1.2: decrypts an item of Encrypted Attributes
// Sequence (0400,0500) with a recipient private key and moves the attributes
// of the single item of Modified Attributes Sequence (0400,0550) back into
// the top-level dataset.
#pragma once

#include <dcmtk/dcmdata/dcfilefo.h>

#include <memory>
#include <string>

namespace Deid
{
  // An RSA private key (PEM, PKCS#1 or PKCS#8, optionally encrypted). Never
  // prompts for a password. Immutable: can be shared by threads.
  class RecipientPrivateKey
  {
  private:
    struct Key;
    std::shared_ptr<Key> key_;

  public:
    // Throws DeidError(Crypto) if the PEM cannot be read (wrong password,
    // not a private key).
    explicit RecipientPrivateKey(const std::string& pem, const std::string& password = "");

    void* GetHandle() const;   // EVP_PKEY*
  };

  struct ReidentificationResult
  {
    size_t restoredAttributes = 0;   // top-level attributes put back
  };

  // True if the dataset has a non-empty Encrypted Attributes Sequence.
  bool HasEncryptedAttributes(DcmItem& dataset);

  // Decrypts the first item of Encrypted Attributes Sequence that the key
  // opens and returns the single item of Modified Attributes Sequence.
  // Throws DeidError(BadInput) if there is no Encrypted Attributes Sequence or
  // the decrypted content is not a valid Encrypted Attributes Data Set, and
  // DeidError(Crypto) if no item can be decrypted with the key.
  std::unique_ptr<DcmItem> DecryptModifiedAttributes(DcmItem& dataset, const RecipientPrivateKey& key);

  // PS3.15 E.1.2 on a whole file, all or nothing (nothing is changed if an
  // exception is thrown): removes Encrypted Attributes Sequence (0400,0500),
  // sets Patient Identity Removed (0012,0062) to NO, removes
  // De-identification Method (0012,0063) and De-identification Method Code
  // Sequence (0012,0064); then restores every attribute of the Modified
  // Attributes Sequence item at the top level (replacing dummy values; an
  // instance that was de-identified twice gets its first protection back),
  // and sets Media Storage SOP Instance UID (0002,0003) to the restored SOP
  // Instance UID. For an Implicit VR file, standard attributes encoded as UN
  // in the encrypted data set (as gdcmanon does) get their dictionary VR.
  ReidentificationResult Reidentify(DcmFileFormat& file, const RecipientPrivateKey& key);
}
