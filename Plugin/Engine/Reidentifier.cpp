// PS3.15 E.1.2 Re-identifier.
#include "Reidentifier.h"

#include "DeclaredLengths.h"
#include "DeidError.h"
#include "EncryptedAttributes.h"
#include "NestingDepth.h"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace Deid
{
  namespace
  {
    // Never prompts on a terminal: the password is the given one or none.
    int PasswordCallback(char* buffer, int size, int /*rwflag*/, void* userData)
    {
      const std::string* password = static_cast<const std::string*>(userData);
      if (password == nullptr || password->empty() || size <= 0)
      {
        return -1;
      }
      const int length = static_cast<int>(std::min<size_t>(password->size(), static_cast<size_t>(size)));
      memcpy(buffer, password->data(), static_cast<size_t>(length));
      return length;
    }

    std::string Decrypt(const Uint8* data, size_t size, EVP_PKEY* key, std::string& reason)
    {
      BIO* in = BIO_new_mem_buf(data, static_cast<int>(size));
      BIO* out = BIO_new(BIO_s_mem());
      CMS_ContentInfo* cms = (in != nullptr ? d2i_CMS_bio(in, nullptr) : nullptr);
      std::string result;
      bool ok = false;

      if (cms == nullptr)
      {
        reason = "the Encrypted Content is not a DER CMS structure";
      }
      else if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_enveloped)
      {
        reason = "the Encrypted Content is not CMS EnvelopedData";
      }
      else if (out != nullptr &&
               // CMS_DEBUG_DECRYPT: fail on a key that opens no recipient
               // instead of decrypting with a random key (no oracle here: the
               // caller holds the private key).
               CMS_decrypt(cms, key, nullptr, nullptr, out, CMS_BINARY | CMS_DEBUG_DECRYPT) == 1)
      {
        BUF_MEM* memory = nullptr;
        BIO_get_mem_ptr(out, &memory);
        if (memory != nullptr)
        {
          result.assign(memory->data, memory->length);
          ok = true;
        }
      }
      else
      {
        reason = "the private key does not open the Encrypted Content (wrong key or corrupted content)";
      }

      ERR_clear_error();
      CMS_ContentInfo_free(cms);
      BIO_free(in);
      BIO_free(out);

      if (!ok)
      {
        result.clear();
      }
      return result;
    }

    // The text of a UID attribute, also when it is encoded with VR UN.
    std::string GetUidText(DcmItem& dataset, const DcmTagKey& key)
    {
      DcmElement* element = nullptr;
      if (!dataset.findAndGetElement(key, element).good() || element == nullptr)
      {
        return "";
      }

      std::string text;
      if (element->getVR() == EVR_UN)
      {
        Uint8* value = nullptr;
        if (element->getLength() > 0 && element->getUint8Array(value).good() && value != nullptr)
        {
          text.assign(reinterpret_cast<const char*>(value), element->getLength());
        }
      }
      else
      {
        OFString s;
        if (element->getOFStringArray(s).good())
        {
          text = s.c_str();
        }
      }

      while (!text.empty() && (text.back() == '\0' || text.back() == ' '))
      {
        text.pop_back();
      }
      return text;
    }

    // GDCM encodes the attributes it read from an Implicit VR file with VR UN
    // (and their sequences as UN holding Implicit VR Little Endian items, as
    // PS3.5 6.2.2 allows). Standard attributes get their dictionary VR back
    // by decoding the value as Implicit VR Little Endian, as a reader of the
    // original Implicit VR file would; private ones stay UN (a reader of the
    // Implicit VR file would not know their VR either).
    void RestoreDictionaryVRs(DcmItem& item)
    {
      // One pass over DCMTK's list (getElement(i) walks it from the start);
      // each element is replaced only while it is processed.
      std::vector<DcmElement*> elements;
      for (DcmObject* o = item.nextInContainer(nullptr); o != nullptr; o = item.nextInContainer(o))
      {
        elements.push_back(static_cast<DcmElement*>(o));
      }

      for (DcmElement* element : elements)
      {
        if (element == nullptr || element->getVR() != EVR_UN)
        {
          continue;
        }

        const DcmTagKey key = element->getTag();
        const DcmEVR dictionaryVR = DcmTag(key).getEVR();
        if ((key.getGroup() & 1) != 0 ||
            dictionaryVR == EVR_UN || dictionaryVR == EVR_UNKNOWN || dictionaryVR == EVR_UNKNOWN2B)
        {
          continue;
        }

        Uint8* value = nullptr;
        const Uint32 length = element->getLength();
        if (length > 0 && (!element->getUint8Array(value).good() || value == nullptr))
        {
          continue;
        }

        std::string encoded(8, '\0');
        encoded[0] = static_cast<char>(key.getGroup() & 0xff);
        encoded[1] = static_cast<char>(key.getGroup() >> 8);
        encoded[2] = static_cast<char>(key.getElement() & 0xff);
        encoded[3] = static_cast<char>(key.getElement() >> 8);
        for (int b = 0; b < 4; b++)
        {
          encoded[4 + b] = static_cast<char>((length >> (8 * b)) & 0xff);
        }
        if (length > 0)
        {
          encoded.append(reinterpret_cast<const char*>(value), length);
        }

        // The attribute is restored at the top level: at most the maximum
        // nesting depth, counting itself (NestingDepth.h).
        DcmDataset decoded;
        const OFCondition cond = ReadWithDepthLimit(decoded, encoded.data(), encoded.size(), EXS_LittleEndianImplicit,
                                                    GetMaximumNestingDepth(), "Cannot restore an attribute");

        if (cond.good() && decoded.card() == 1)
        {
          DcmElement* converted = decoded.remove(static_cast<unsigned long>(0));
          if (converted != nullptr && converted->getTag() == key)
          {
            item.insert(converted, true /* replace */);
          }
          else
          {
            delete converted;
          }
        }
      }
    }

    // The single item of Modified Attributes Sequence of a decoded Encrypted
    // Attributes Data Set, or nullptr with a reason.
    std::unique_ptr<DcmItem> Decode(const std::string& content, E_TransferSyntax xfer, std::string& reason)
    {
      try
      {
        CheckDeclaredLengths(content.data(), content.size(), xfer);   // before DCMTK allocates one
      }
      catch (const DeidError& e)
      {
        reason = std::string("the decrypted content is not a valid DICOM data set (") + e.what() + ")";
        return nullptr;
      }

      // The Modified Attributes Sequence adds one level above the attributes
      // to restore, which are at most the maximum nesting depth deep.
      DcmDataset dataset;
      OFCondition cond = ReadWithDepthLimit(dataset, content.data(), content.size(), xfer,
                                            GetMaximumNestingDepth() + 1, "Cannot decode the decrypted Encrypted Attributes Data Set");

      if (!cond.good())
      {
        reason = std::string("the decrypted content is not a valid DICOM data set (") + cond.text() + ")";
        return nullptr;
      }

      DcmSequenceOfItems* sequence = nullptr;
      if (!dataset.findAndGetSequence(DCM_ModifiedAttributesSequence, sequence).good() || sequence == nullptr)
      {
        reason = "the decrypted data set has no Modified Attributes Sequence (0400,0550)";
        return nullptr;
      }

      if (sequence->card() != 1)
      {
        reason = "the Modified Attributes Sequence (0400,0550) must have exactly one item, found " +
          std::to_string(sequence->card());
        return nullptr;
      }

      return std::unique_ptr<DcmItem>(sequence->remove(static_cast<unsigned long>(0)));
    }
  }

  struct RecipientPrivateKey::Key
  {
    EVP_PKEY* pkey = nullptr;

    ~Key()
    {
      EVP_PKEY_free(pkey);
    }
  };

  RecipientPrivateKey::RecipientPrivateKey(const std::string& pem, const std::string& password) :
    key_(std::make_shared<Key>())
  {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    if (bio == nullptr)
    {
      throw DeidError(ErrorCode::Internal, "Out of memory");
    }

    key_->pkey = PEM_read_bio_PrivateKey(bio, nullptr, PasswordCallback,
                                         const_cast<std::string*>(&password));
    BIO_free(bio);
    ERR_clear_error();

    if (key_->pkey == nullptr)
    {
      throw DeidError(ErrorCode::Crypto, password.empty() ?
                      "Cannot read the private key (not a PEM private key, or encrypted and no password given)" :
                      "Cannot read the private key (not a PEM private key, or wrong password)");
    }
  }

  void* RecipientPrivateKey::GetHandle() const
  {
    return key_->pkey;
  }

  bool HasEncryptedAttributes(DcmItem& dataset)
  {
    DcmSequenceOfItems* sequence = nullptr;
    return (dataset.findAndGetSequence(DCM_EncryptedAttributesSequence, sequence).good() &&
            sequence != nullptr &&
            sequence->card() > 0);
  }

  std::unique_ptr<DcmItem> DecryptModifiedAttributes(DcmItem& dataset, const RecipientPrivateKey& key)
  {
    DcmSequenceOfItems* sequence = nullptr;
    if (!dataset.findAndGetSequence(DCM_EncryptedAttributesSequence, sequence).good() ||
        sequence == nullptr ||
        sequence->card() == 0)
    {
      throw DeidError(ErrorCode::BadInput, "The instance has no Encrypted Attributes Sequence (0400,0500): "
                      "it cannot be re-identified");
    }

    EVP_PKEY* pkey = static_cast<EVP_PKEY*>(key.GetHandle());
    std::string reasons;
    bool decrypted = false;

    // E.1.2 step 1: any item that the key opens will do.
    for (unsigned long i = 0; i < sequence->card(); i++)
    {
      DcmItem* item = sequence->getItem(i);
      std::string reason;

      OFString transferSyntaxUid;
      const Uint8* content = nullptr;
      unsigned long contentSize = 0;

      if (item == nullptr ||
          !item->findAndGetOFString(DCM_EncryptedContentTransferSyntaxUID, transferSyntaxUid).good() ||
          transferSyntaxUid.empty())
      {
        reason = "missing Encrypted Content Transfer Syntax UID (0400,0510)";
      }
      else if (!item->findAndGetUint8Array(DCM_EncryptedContent, content, &contentSize).good() ||
               content == nullptr || contentSize == 0)
      {
        reason = "missing Encrypted Content (0400,0520)";
      }
      else
      {
        DcmXfer xfer(transferSyntaxUid.c_str());
        const E_TransferSyntax ts = xfer.getXfer();
        if (ts != EXS_LittleEndianExplicit &&
            ts != EXS_LittleEndianImplicit &&
            ts != EXS_BigEndianExplicit)
        {
          reason = "unsupported Encrypted Content Transfer Syntax UID " + std::string(transferSyntaxUid.c_str());
        }
        else
        {
          const std::string plain = Decrypt(content, contentSize, pkey, reason);
          if (reason.empty() && CheckContentDigest(plain) == ContentDigest::Mismatch)
          {
            // CBC has no integrity: without this, a corrupted block would
            // restore wrong values (see EncodeEncryptedAttributesDataSet).
            reason = "the decrypted content does not match its SHA-256 digest (corrupted Encrypted Content)";
          }
          else if (reason.empty())
          {
            decrypted = true;
            std::unique_ptr<DcmItem> modified = Decode(plain, ts, reason);
            if (modified)
            {
              return modified;
            }
          }
        }
      }

      reasons += (reasons.empty() ? "" : "; ") + std::string("item ") + std::to_string(i + 1) + ": " + reason;
    }

    if (decrypted)
    {
      throw DeidError(ErrorCode::BadInput, "Invalid Encrypted Attributes Data Set: " + reasons);
    }
    else
    {
      throw DeidError(ErrorCode::Crypto, "Cannot decrypt the Encrypted Attributes Sequence (0400,0500): " + reasons);
    }
  }

  ReidentificationResult Reidentify(DcmFileFormat& file, const RecipientPrivateKey& key)
  {
    DcmDataset& dataset = *file.getDataset();

    // Everything that can fail happens before the first change.
    std::unique_ptr<DcmItem> modified = DecryptModifiedAttributes(dataset, key);

    // In an Implicit VR file every standard attribute has its dictionary VR:
    // undo the UN of GDCM's encoding. In Explicit VR files an UN is kept, as
    // it may be what the original said.
    if (DcmXfer(dataset.getOriginalXfer()).isImplicitVR())
    {
      RestoreDictionaryVRs(*modified);
    }

    std::vector<DcmElement*> restored;
    for (DcmObject* o = modified->nextInContainer(nullptr); o != nullptr; o = modified->nextInContainer(o))
    {
      DcmElement* element = static_cast<DcmElement*>(o);
      if (element != nullptr)
      {
        DcmElement* copy = static_cast<DcmElement*>(element->clone());
        if (copy == nullptr)
        {
          for (DcmElement* e : restored)
          {
            delete e;
          }
          throw DeidError(ErrorCode::Internal, "Out of memory");
        }
        restored.push_back(copy);
      }
    }

    ReidentificationResult result;

    // The protection is removed (as GDCM does), and E.1.2 step 3, BEFORE the
    // originals move in: if the original instance was itself de-identified
    // (it had its own Encrypted Attributes Sequence, Patient Identity Removed
    // YES, a method), those original values are what is restored.
    delete dataset.remove(DCM_EncryptedAttributesSequence);
    dataset.putAndInsertString(DCM_PatientIdentityRemoved, "NO");
    delete dataset.remove(DCM_DeidentificationMethod);
    delete dataset.remove(DCM_DeidentificationMethodCodeSequence);

    // E.1.2 step 2: move every attribute of the item into the top-level data
    // set, replacing the dummy values. File meta elements (group 0002) have
    // no place in a data set: the meta information describes the file as it
    // is written now.
    for (DcmElement* element : restored)
    {
      if (element->getTag().getGroup() != 0x0002 &&
          dataset.insert(element, true /* replace */).good())
      {
        result.restoredAttributes++;
      }
      else
      {
        delete element;
      }
    }

    // The file meta information must name the restored instance.
    const std::string sopInstanceUid = GetUidText(dataset, DCM_SOPInstanceUID);
    if (!sopInstanceUid.empty() &&
        file.getMetaInfo() != nullptr)
    {
      file.getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPInstanceUID, sopInstanceUid.c_str());
    }

    return result;
  }
}
