// PS3.15 E.1.1 step 4: the Encrypted Attributes Data Set, CMS EnvelopedData.
#include "EncryptedAttributes.h"

#include "DeidError.h"
#include "SafeText.h"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>

namespace Deid
{
  const char* const ENCRYPTED_CONTENT_TRANSFER_SYNTAX = UID_LittleEndianExplicitTransferSyntax;

  namespace
  {
    std::string Normalize(const std::string& text)
    {
      std::string s;
      for (char c : text)
      {
        if (c != '-' && c != '_' && c != ' ')
        {
          s.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
        }
      }
      return s;
    }

    const EVP_CIPHER* GetEvpCipher(ContentCipher cipher)
    {
      switch (cipher)
      {
        case ContentCipher::AES256:
          return EVP_aes_256_cbc();
        case ContentCipher::AES128:
          return EVP_aes_128_cbc();
        case ContentCipher::TripleDES:
          return EVP_des_ede3_cbc();
      }
      throw DeidError(ErrorCode::Internal, "Unknown content cipher");
    }

    // Explicit VR Little Endian, undefined lengths for sequences and items (as GDCM).
    std::string EncodeDataset(DcmDataset& dataset)
    {
      const E_TransferSyntax xfer = EXS_LittleEndianExplicit;
      std::string result;
      std::vector<char> buffer(64 * 1024);
      DcmOutputBufferStream stream(buffer.data(), buffer.size());

      dataset.transferInit();
      OFCondition cond;
      do
      {
        cond = dataset.write(stream, xfer, EET_UndefinedLength, nullptr);
        void* data = nullptr;
        offile_off_t length = 0;
        stream.flushBuffer(data, length);
        if (length > 0)
        {
          result.append(static_cast<const char*>(data), static_cast<size_t>(length));
        }
      }
      while (cond == EC_StreamNotifyClient);
      dataset.transferEnd();

      if (!cond.good())
      {
        // Names the condition only; never values.
        throw DeidError(ErrorCode::BadInput, std::string("Cannot encode the original attributes in "
                        "Explicit VR Little Endian: ") + cond.text());
      }
      return result;
    }

    std::string Sha256(const std::string& data)
    {
      unsigned char digest[EVP_MAX_MD_SIZE];
      unsigned int length = 0;
      if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1)
      {
        throw DeidError(ErrorCode::Crypto, "SHA-256 failed");
      }
      return std::string(reinterpret_cast<const char*>(digest), length);
    }

    const char* const DIGEST_CREATOR = "OrthancDeidentification 1";
    const Uint16 DIGEST_GROUP = 0x0401;

    // The private block (0401,0010) + (0401,1001) OB: the SHA-256 of "content".
    std::string EncodeDigestTrailer(const std::string& content)
    {
      const std::string digest = Sha256(content);
      DcmDataset trailer;
      if (!trailer.putAndInsertString(DcmTag(DIGEST_GROUP, 0x0010, EVR_LO), DIGEST_CREATOR).good() ||
          !trailer.putAndInsertUint8Array(DcmTag(DIGEST_GROUP, 0x1001, EVR_OB),
                                          reinterpret_cast<const Uint8*>(digest.data()),
                                          static_cast<unsigned long>(digest.size())).good())
      {
        throw DeidError(ErrorCode::Internal, "Cannot build the digest of the Encrypted Attributes Data Set");
      }
      return EncodeDataset(trailer);
    }

    std::string OpenSslErrors()
    {
      std::string s;
      unsigned long code;
      while ((code = ERR_get_error()) != 0)
      {
        char buffer[256];
        ERR_error_string_n(code, buffer, sizeof(buffer));
        if (!s.empty())
        {
          s += "; ";
        }
        s += buffer;
      }
      return s;
    }
  }

  ContentCipher ParseContentCipher(const std::string& text)
  {
    const std::string s = Normalize(text);
    if (s == "AES256" || s == "AES256CBC" || s.empty())
    {
      return ContentCipher::AES256;
    }
    if (s == "AES128" || s == "AES128CBC")
    {
      return ContentCipher::AES128;
    }
    if (s == "TRIPLEDES" || s == "3DES" || s == "DES3" || s == "DESEDE3CBC" || s == "DESEDE3")
    {
      return ContentCipher::TripleDES;
    }
    throw DeidError(ErrorCode::BadOption, "Unknown cipher " + SafeText::Quote(text) +
                    " for the Encrypted Attributes Sequence (use AES256, AES128 or TripleDES)");
  }

  const char* ToString(ContentCipher cipher)
  {
    switch (cipher)
    {
      case ContentCipher::AES256:
        return "AES256";
      case ContentCipher::AES128:
        return "AES128";
      case ContentCipher::TripleDES:
        return "TripleDES";
    }
    return "?";
  }

  struct EncryptedAttributesWriter::Recipients
  {
    STACK_OF(X509)* certificates = nullptr;

    Recipients() : certificates(sk_X509_new_null())
    {
      if (certificates == nullptr)
      {
        throw DeidError(ErrorCode::Internal, "Out of memory");
      }
    }

    ~Recipients()
    {
      sk_X509_pop_free(certificates, X509_free);
    }

    Recipients(const Recipients&) = delete;
    Recipients& operator=(const Recipients&) = delete;
  };

  EncryptedAttributesWriter::EncryptedAttributesWriter(const std::vector<std::string>& certificatePems,
                                                       ContentCipher cipher) :
    recipients_(std::make_shared<Recipients>()),
    cipher_(cipher)
  {
    if (certificatePems.empty())
    {
      throw DeidError(ErrorCode::BadOption, "The Encrypted Attributes Sequence needs at least one recipient certificate");
    }

    for (size_t i = 0; i < certificatePems.size(); i++)
    {
      const std::string& pem = certificatePems[i];
      BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
      if (bio == nullptr)
      {
        throw DeidError(ErrorCode::Internal, "Out of memory");
      }

      size_t count = 0;
      for (;;)
      {
        X509* x509 = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
        if (x509 == nullptr)
        {
          break;
        }

        EVP_PKEY* publicKey = X509_get0_pubkey(x509);
        if (publicKey == nullptr || EVP_PKEY_get_base_id(publicKey) != EVP_PKEY_RSA)
        {
          X509_free(x509);
          BIO_free(bio);
          throw DeidError(ErrorCode::Crypto, "Recipient certificate #" + std::to_string(i + 1) +
                          " does not hold an RSA public key (PS3.15 E.1.1 requires RSA key transport)");
        }

        sk_X509_push(recipients_->certificates, x509);
        count++;
      }

      BIO_free(bio);
      ERR_clear_error();   // the end of the PEM stream leaves a "no start line" error

      if (count == 0)
      {
        throw DeidError(ErrorCode::Crypto, "Recipient certificate #" + std::to_string(i + 1) +
                        " is not a PEM X.509 certificate");
      }
    }
  }

  size_t EncryptedAttributesWriter::GetRecipientCount() const
  {
    return static_cast<size_t>(sk_X509_num(recipients_->certificates));
  }

  std::string EncryptedAttributesWriter::EncodeModifiedAttributes(const DcmItem& originals)
  {
    // The Encrypted Attributes Data Set: Modified Attributes Sequence with a
    // single item (PS3.15 E.1.1 step 1), encoded as GDCM does.
    DcmDataset dataset;
    std::unique_ptr<DcmSequenceOfItems> sequence(new DcmSequenceOfItems(DCM_ModifiedAttributesSequence));
    std::unique_ptr<DcmItem> item(static_cast<DcmItem*>(originals.clone()));
    if (item.get() == nullptr || !sequence->append(item.get()).good())
    {
      throw DeidError(ErrorCode::Internal, "Cannot build the Modified Attributes Sequence");
    }
    item.release();

    if (!dataset.insert(sequence.get(), true).good())
    {
      throw DeidError(ErrorCode::Internal, "Cannot build the Encrypted Attributes Data Set");
    }
    sequence.release();

    return EncodeDataset(dataset);
  }

  std::string EncryptedAttributesWriter::EncodeEncryptedAttributesDataSet(const DcmItem& originals)
  {
    const std::string modified = EncodeModifiedAttributes(originals);
    return modified + EncodeDigestTrailer(modified);
  }


  ContentDigest CheckContentDigest(const std::string& content)
  {
    const size_t trailerSize = EncodeDigestTrailer(std::string()).size();   // fixed size
    if (content.size() > trailerSize)
    {
      const std::string modified = content.substr(0, content.size() - trailerSize);
      if (content.compare(content.size() - trailerSize, trailerSize, EncodeDigestTrailer(modified)) == 0)
      {
        return ContentDigest::Verified;
      }
    }

    // Our private creator without a matching digest: the content was altered.
    return (content.find(DIGEST_CREATOR) != std::string::npos ? ContentDigest::Mismatch : ContentDigest::Absent);
  }


  std::string EncryptedAttributesWriter::Encrypt(const std::string& content) const
  {
    BIO* in = BIO_new_mem_buf(content.data(), static_cast<int>(content.size()));
    BIO* out = BIO_new(BIO_s_mem());
    CMS_ContentInfo* cms = nullptr;
    std::string result;
    bool ok = false;

    if (in != nullptr && out != nullptr)
    {
      // RSA key transport (ktri, PKCS#1 v1.5) for every recipient; binary
      // content (no MIME canonicalization); DER output.
      cms = CMS_encrypt(recipients_->certificates, in, GetEvpCipher(cipher_), CMS_BINARY);
      if (cms != nullptr && i2d_CMS_bio(out, cms) == 1)
      {
        BUF_MEM* memory = nullptr;
        BIO_get_mem_ptr(out, &memory);
        if (memory != nullptr)
        {
          result.assign(memory->data, memory->length);
          ok = true;
        }
      }
    }

    const std::string errors = ok ? std::string() : OpenSslErrors();
    CMS_ContentInfo_free(cms);
    BIO_free(in);
    BIO_free(out);

    if (!ok)
    {
      throw DeidError(ErrorCode::Crypto, "CMS encryption of the Encrypted Attributes Data Set failed: " + errors);
    }

    return result;
  }

  void EncryptedAttributesWriter::Protect(DcmItem& dataset, const DcmItem& originals) const
  {
    std::unique_ptr<DcmItem> copy(static_cast<DcmItem*>(originals.clone()));

    // E.1.1 step 5: the SOP Instance UID is always protected.
    if (!copy->tagExists(DCM_SOPInstanceUID))
    {
      DcmElement* sopInstanceUid = nullptr;
      if (dataset.findAndGetElement(DCM_SOPInstanceUID, sopInstanceUid).good() && sopInstanceUid != nullptr)
      {
        copy->insert(static_cast<DcmElement*>(sopInstanceUid->clone()), true);
      }
    }

    const std::string encrypted = Encrypt(EncodeEncryptedAttributesDataSet(*copy));

    std::unique_ptr<DcmItem> item(new DcmItem);
    if (!item->putAndInsertString(DCM_EncryptedContentTransferSyntaxUID, ENCRYPTED_CONTENT_TRANSFER_SYNTAX).good() ||
        !item->putAndInsertUint8Array(DCM_EncryptedContent,
                                      reinterpret_cast<const Uint8*>(encrypted.data()),
                                      static_cast<unsigned long>(encrypted.size())).good())
    {
      throw DeidError(ErrorCode::Internal, "Cannot build an item of Encrypted Attributes Sequence");
    }

    DcmSequenceOfItems* sequence = nullptr;
    if (!dataset.findAndGetSequence(DCM_EncryptedAttributesSequence, sequence).good() || sequence == nullptr)
    {
      std::unique_ptr<DcmSequenceOfItems> created(new DcmSequenceOfItems(DCM_EncryptedAttributesSequence));
      sequence = created.get();
      if (!dataset.insert(created.get(), true).good())
      {
        throw DeidError(ErrorCode::Internal, "Cannot add Encrypted Attributes Sequence");
      }
      created.release();
    }

    if (!sequence->append(item.get()).good())
    {
      throw DeidError(ErrorCode::Internal, "Cannot add an item to Encrypted Attributes Sequence");
    }
    item.release();
  }
}
