// PS3.15 E.1.1 (Encrypted Attributes Sequence) and E.1.2 (re-identification):
// round trips over the pydicom sample files, wrong keys, corrupted content,
// the three content ciphers, several recipients, and interoperability with
// GDCM's gdcmanon in both directions.
#include "Engine/DeidError.h"
#include "Engine/EncryptedAttributes.h"
#include "Engine/Reidentifier.h"

#include <gtest/gtest.h>

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

using namespace Deid;

namespace
{
  const char* const TEST_FILES = "/usr/lib/python3/dist-packages/pydicom/data/test_files";

  struct KeyPair
  {
    std::string keyPem;
    std::string certificatePem;
  };

  std::string BioToString(BIO* bio)
  {
    BUF_MEM* memory = nullptr;
    BIO_get_mem_ptr(bio, &memory);
    return std::string(memory->data, memory->length);
  }

  // A throwaway RSA key and a self-signed certificate, made with OpenSSL.
  KeyPair MakeKeyPair(const std::string& commonName, const std::string& password = "")
  {
    EVP_PKEY* pkey = EVP_RSA_gen(2048);
    EXPECT_NE(pkey, nullptr);

    X509* x509 = X509_new();
    X509_set_version(x509, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x509), static_cast<long>(std::hash<std::string>()(commonName) & 0x7fffffff));
    X509_gmtime_adj(X509_getm_notBefore(x509), 0);
    X509_gmtime_adj(X509_getm_notAfter(x509), 86400L);
    X509_set_pubkey(x509, pkey);
    X509_NAME* name = X509_get_subject_name(x509);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(commonName.c_str()), -1, -1, 0);
    X509_set_issuer_name(x509, name);
    EXPECT_GT(X509_sign(x509, pkey, EVP_sha256()), 0);

    KeyPair result;
    BIO* keyBio = BIO_new(BIO_s_mem());
    if (password.empty())
    {
      PEM_write_bio_PrivateKey(keyBio, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    }
    else
    {
      PEM_write_bio_PKCS8PrivateKey(keyBio, pkey, EVP_aes_256_cbc(), nullptr, 0, nullptr,
                                    const_cast<char*>(password.c_str()));
    }
    result.keyPem = BioToString(keyBio);
    BIO_free(keyBio);

    BIO* certBio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(certBio, x509);
    result.certificatePem = BioToString(certBio);
    BIO_free(certBio);

    X509_free(x509);
    EVP_PKEY_free(pkey);
    return result;
  }

  const KeyPair& Custodian()
  {
    static const KeyPair keys = MakeKeyPair("custodian");
    return keys;
  }

  const KeyPair& SecondRecipient()
  {
    static const KeyPair keys = MakeKeyPair("second recipient");
    return keys;
  }

  const KeyPair& Stranger()
  {
    static const KeyPair keys = MakeKeyPair("stranger");
    return keys;
  }

  std::string MakeTempDir()
  {
    char pattern[] = "/tmp/deid-encrypted-XXXXXX";
    const char* dir = mkdtemp(pattern);
    EXPECT_NE(dir, nullptr);
    return dir;
  }

  void WriteText(const std::string& path, const std::string& content)
  {
    std::ofstream out(path, std::ios::binary);
    out << content;
  }

  std::unique_ptr<DcmFileFormat> Load(const std::string& path)
  {
    std::unique_ptr<DcmFileFormat> file(new DcmFileFormat);
    if (!file->loadFile(path.c_str()).good())
    {
      return nullptr;
    }
    file->loadAllDataIntoMemory();
    return file;
  }

  // The encoding of one element (or a whole data set) in a transfer syntax,
  // with explicit lengths, for byte-for-byte comparisons.
  std::string Encode(DcmObject& object, E_TransferSyntax xfer)
  {
    std::string result;
    std::vector<char> buffer(64 * 1024);
    DcmOutputBufferStream stream(buffer.data(), buffer.size());
    object.transferInit();
    OFCondition cond;
    do
    {
      cond = object.write(stream, xfer, EET_ExplicitLength, nullptr);
      void* data = nullptr;
      offile_off_t length = 0;
      stream.flushBuffer(data, length);
      result.append(static_cast<const char*>(data), static_cast<size_t>(length));
    }
    while (cond == EC_StreamNotifyClient);
    object.transferEnd();
    EXPECT_TRUE(cond.good()) << cond.text();
    return result;
  }

  std::string TagText(const DcmTagKey& key)
  {
    return key.toString().c_str();
  }

  // The pydicom sample files that DCMTK reads, with a SOP Instance UID.
  std::vector<std::string> SampleFiles()
  {
    std::vector<std::string> result;
    DIR* dir = opendir(TEST_FILES);
    if (dir == nullptr)
    {
      return result;
    }
    while (dirent* entry = readdir(dir))
    {
      const std::string name = entry->d_name;
      if (name.size() > 4 && name.substr(name.size() - 4) == ".dcm")
      {
        const std::string path = std::string(TEST_FILES) + "/" + name;
        std::unique_ptr<DcmFileFormat> file = Load(path);
        if (file && file->getDataset()->tagExists(DCM_SOPInstanceUID))
        {
          result.push_back(path);
        }
      }
    }
    closedir(dir);
    std::sort(result.begin(), result.end());
    return result;
  }

  // A UID attribute as text, also when encoded with VR UN.
  std::string UidText(DcmItem& dataset, const DcmTagKey& key)
  {
    DcmElement* element = nullptr;
    if (!dataset.findAndGetElement(key, element).good())
    {
      return "";
    }
    std::string text;
    if (element->getVR() == EVR_UN)
    {
      Uint8* value = nullptr;
      element->getUint8Array(value);
      text.assign(reinterpret_cast<const char*>(value), element->getLength());
    }
    else
    {
      OFString s;
      element->getOFStringArray(s);
      text = s.c_str();
    }
    while (!text.empty() && (text.back() == '\0' || text.back() == ' '))
    {
      text.pop_back();
    }
    return text;
  }

  bool IsMarker(const DcmTagKey& key)
  {
    return (key == DCM_PatientIdentityRemoved ||
            key == DCM_DeidentificationMethod ||
            key == DCM_DeidentificationMethodCodeSequence ||
            key == DCM_LongitudinalTemporalInformationModified ||
            key == DCM_EncryptedAttributesSequence);
  }

  // Stands in for a profile: every identifying-looking top-level attribute
  // (patient, dates, UIDs, names, sequences, private elements) is copied to
  // the originals item, then replaced by a dummy or removed, and the
  // de-identification markers are added.
  std::unique_ptr<DcmItem> SimulateDeidentification(DcmFileFormat& file)
  {
    DcmDataset& dataset = *file.getDataset();
    std::unique_ptr<DcmItem> originals(new DcmItem);
    std::vector<DcmTagKey> toRemove;

    for (unsigned long i = 0; i < dataset.card(); i++)
    {
      DcmElement* element = dataset.getElement(i);
      const DcmTagKey key = element->getTag();
      const DcmEVR vr = element->getTag().getEVR();
      const bool isPrivate = (key.getGroup() & 1) != 0;
      const bool identifying = (key.getGroup() == 0x0010 || vr == EVR_DA || vr == EVR_TM || vr == EVR_DT ||
                                vr == EVR_UI || vr == EVR_PN || vr == EVR_SQ || isPrivate ||
                                key == DCM_InstitutionName || key == DCM_AccessionNumber || key == DCM_StudyID);
      if (!identifying || key == DCM_PixelData || key == DCM_SOPClassUID)
      {
        continue;
      }

      originals->insert(static_cast<DcmElement*>(element->clone()), true);
      if (vr == EVR_UI)
      {
        char uid[100];
        dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT);
        element->putString(uid);
      }
      else if (vr == EVR_SQ || isPrivate)
      {
        toRemove.push_back(key);
      }
      else if (vr == EVR_PN || vr == EVR_LO || vr == EVR_SH)
      {
        element->putString("DUMMY");
      }
      else
      {
        element->putString("");
      }
    }

    for (const DcmTagKey& key : toRemove)
    {
      delete dataset.remove(key);
    }

    dataset.putAndInsertString(DCM_PatientIdentityRemoved, "YES");
    dataset.putAndInsertString(DCM_DeidentificationMethod, "unit test");
    OFString sopInstanceUid;
    dataset.findAndGetOFString(DCM_SOPInstanceUID, sopInstanceUid);
    file.getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPInstanceUID, sopInstanceUid.c_str());
    return originals;
  }

  // Every top-level attribute of "original" is in "restored" with the same
  // bytes; "restored" has nothing else but the de-identification markers.
  // Group lengths (gggg,0000) are ignored: writers recompute or drop them.
  void ExpectRestored(DcmFileFormat& original, DcmFileFormat& restored, const std::string& label,
                      bool byUs = true)
  {
    DcmDataset& a = *original.getDataset();
    DcmDataset& b = *restored.getDataset();
    E_TransferSyntax xfer = a.getOriginalXfer();
    if (xfer == EXS_Unknown || xfer == EXS_DeflatedLittleEndianExplicit)
    {
      xfer = EXS_LittleEndianExplicit;
    }

    size_t compared = 0;
    for (unsigned long i = 0; i < a.card(); i++)
    {
      DcmElement* element = a.getElement(i);
      const DcmTagKey key = element->getTag();
      if (IsMarker(key) || key.getElement() == 0x0000)
      {
        continue;
      }

      DcmElement* other = nullptr;
      if (!b.findAndGetElement(key, other).good() || other == nullptr)
      {
        ADD_FAILURE() << label << ": " << TagText(key) << " is missing after re-identification";
        continue;
      }

      if (element->getVR() == EVR_UN && other->getVR() != EVR_UN)
      {
        // The engine gives UN attributes their dictionary VR (not a
        // de-identification change): the value bytes must be the same.
        EXPECT_EQ(Encode(*element, EXS_LittleEndianImplicit), Encode(*other, EXS_LittleEndianImplicit))
          << label << ": " << TagText(key) << " (UN) is not restored byte for byte";
      }
      else
      {
        EXPECT_EQ(Encode(*element, xfer), Encode(*other, xfer))
          << label << ": " << TagText(key) << " is not restored byte for byte";
      }
      compared++;
    }
    EXPECT_GT(compared, 0u);

    for (unsigned long i = 0; i < b.card(); i++)
    {
      const DcmTagKey key = b.getElement(i)->getTag();
      if (!IsMarker(key) && !a.tagExists(key) && key.getElement() != 0x0000)
      {
        ADD_FAILURE() << label << ": unexpected " << TagText(key) << " after re-identification";
      }
    }

    EXPECT_FALSE(b.tagExists(DCM_EncryptedAttributesSequence)) << label;
    EXPECT_FALSE(b.tagExists(DCM_DeidentificationMethod)) << label;
    if (byUs)
    {
      // E.1.2 step 3 (gdcmanon -d leaves the code sequence).
      EXPECT_FALSE(b.tagExists(DCM_DeidentificationMethodCodeSequence)) << label;
    }

    const std::string sopA = UidText(a, DCM_SOPInstanceUID);
    EXPECT_EQ(sopA, UidText(b, DCM_SOPInstanceUID)) << label;
    DcmElement* sop = nullptr;
    if (b.findAndGetElement(DCM_SOPInstanceUID, sop).good() && sop->getVR() == EVR_UI)
    {
      // (DCMTK's writer replaces the meta UID when SOP Instance UID is UN.)
      EXPECT_EQ(sopA, UidText(*restored.getMetaInfo(), DCM_MediaStorageSOPInstanceUID))
        << label << ": file meta not updated";
    }
  }

  std::string SaveToTemp(DcmFileFormat& file, const std::string& dir, const std::string& name)
  {
    const std::string path = dir + "/" + name;
    E_TransferSyntax xfer = file.getDataset()->getOriginalXfer();
    OFCondition cond = file.saveFile(path.c_str(), xfer == EXS_Unknown ? EXS_LittleEndianExplicit : xfer);
    EXPECT_TRUE(cond.good()) << name << ": " << cond.text();
    return path;
  }

  // The Encrypted Content of the first item.
  std::string GetEncryptedContent(DcmItem& dataset)
  {
    DcmItem* item = nullptr;
    EXPECT_TRUE(dataset.findAndGetSequenceItem(DCM_EncryptedAttributesSequence, item, 0).good());
    const Uint8* data = nullptr;
    unsigned long size = 0;
    EXPECT_TRUE(item->findAndGetUint8Array(DCM_EncryptedContent, data, &size).good());
    return std::string(reinterpret_cast<const char*>(data), size);
  }

  void SetEncryptedContent(DcmItem& dataset, const std::string& content)
  {
    DcmItem* item = nullptr;
    ASSERT_TRUE(dataset.findAndGetSequenceItem(DCM_EncryptedAttributesSequence, item, 0).good());
    ASSERT_TRUE(item->putAndInsertUint8Array(DCM_EncryptedContent, reinterpret_cast<const Uint8*>(content.data()),
                                             content.size()).good());
  }

  // Protects CT_small.dcm for the given recipients; returns (original, protected).
  std::pair<std::unique_ptr<DcmFileFormat>, std::unique_ptr<DcmFileFormat>>
  ProtectSample(const std::vector<std::string>& certificates, ContentCipher cipher = ContentCipher::AES256,
                const std::string& name = "CT_small.dcm")
  {
    const std::string path = std::string(TEST_FILES) + "/" + name;
    std::unique_ptr<DcmFileFormat> original = Load(path);
    std::unique_ptr<DcmFileFormat> deidentified = Load(path);
    EXPECT_TRUE(original && deidentified);
    std::unique_ptr<DcmItem> originals = SimulateDeidentification(*deidentified);
    EncryptedAttributesWriter writer(certificates, cipher);
    writer.Protect(*deidentified->getDataset(), *originals);
    return std::make_pair(std::move(original), std::move(deidentified));
  }

  bool HasGdcmanon()
  {
    return access("/usr/bin/gdcmanon", X_OK) == 0;
  }

  int RunCommand(const std::string& command)
  {
    return std::system((command + " >/dev/null 2>&1").c_str());
  }
}


TEST(EncryptedAttributes, ParseContentCipher)
{
  EXPECT_EQ(ContentCipher::AES256, ParseContentCipher("AES256"));
  EXPECT_EQ(ContentCipher::AES128, ParseContentCipher("aes128"));
  EXPECT_EQ(ContentCipher::TripleDES, ParseContentCipher("TripleDES"));
  EXPECT_EQ(ContentCipher::TripleDES, ParseContentCipher("DES-EDE3-CBC"));
  EXPECT_STREQ("TripleDES", ToString(ContentCipher::TripleDES));
  try
  {
    ParseContentCipher("RC4");
    FAIL();
  }
  catch (DeidError& e)
  {
    EXPECT_EQ(ErrorCode::BadOption, e.GetCode());
  }
}

TEST(EncryptedAttributes, RejectsBadCertificates)
{
  EXPECT_THROW(EncryptedAttributesWriter(std::vector<std::string>()), DeidError);
  try
  {
    EncryptedAttributesWriter writer({"not a certificate"});
    FAIL();
  }
  catch (DeidError& e)
  {
    EXPECT_EQ(ErrorCode::Crypto, e.GetCode());
  }
}

TEST(EncryptedAttributes, StructureMatchesE11)
{
  auto files = ProtectSample({Custodian().certificatePem});
  DcmDataset& dataset = *files.second->getDataset();

  DcmSequenceOfItems* sequence = nullptr;
  ASSERT_TRUE(dataset.findAndGetSequence(DCM_EncryptedAttributesSequence, sequence).good());
  ASSERT_EQ(1u, sequence->card());
  DcmItem* item = sequence->getItem(0);
  OFString ts;
  ASSERT_TRUE(item->findAndGetOFString(DCM_EncryptedContentTransferSyntaxUID, ts).good());
  EXPECT_EQ(std::string("1.2.840.10008.1.2.1"), ts.c_str());

  DcmElement* content = nullptr;
  ASSERT_TRUE(item->findAndGetElement(DCM_EncryptedContent, content).good());
  EXPECT_EQ(EVR_OB, content->getVR());

  // DER ContentInfo with OID 1.2.840.113549.1.7.3 (envelopedData) and the
  // AES-256-CBC OID 2.16.840.1.101.3.4.1.42.
  const std::string der = GetEncryptedContent(dataset);
  ASSERT_GT(der.size(), 20u);
  EXPECT_EQ('\x30', der[0]);
  EXPECT_NE(std::string::npos, der.find(std::string("\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x03", 11)));
  EXPECT_NE(std::string::npos, der.find(std::string("\x06\x09\x60\x86\x48\x01\x65\x03\x04\x01\x2a", 11)));

  // The decrypted content is the Explicit VR Little Endian encoding of the
  // Modified Attributes Sequence, starting with its tag and VR (as GDCM).
  RecipientPrivateKey key(Custodian().keyPem);
  std::unique_ptr<DcmItem> modified = DecryptModifiedAttributes(dataset, key);
  ASSERT_TRUE(modified);
  EXPECT_TRUE(modified->tagExists(DCM_PatientName));
  EXPECT_TRUE(modified->tagExists(DCM_SOPInstanceUID));

  const std::string encoded = EncryptedAttributesWriter::EncodeModifiedAttributes(*modified);
  EXPECT_EQ(std::string("\x00\x04\x50\x05SQ\x00\x00\xff\xff\xff\xff", 12), encoded.substr(0, 12));
}

TEST(EncryptedAttributes, SopInstanceUidAlwaysProtected)
{
  // Originals without SOP Instance UID (e.g. RetainUIDs): the current value
  // is added, so GDCM's re-identifier finds it.
  std::unique_ptr<DcmFileFormat> file = Load(std::string(TEST_FILES) + "/CT_small.dcm");
  DcmItem originals;
  originals.putAndInsertString(DCM_PatientName, "Original^Name");
  EncryptedAttributesWriter writer({Custodian().certificatePem});
  writer.Protect(*file->getDataset(), originals);

  std::unique_ptr<DcmItem> modified = DecryptModifiedAttributes(*file->getDataset(), RecipientPrivateKey(Custodian().keyPem));
  OFString a, b;
  ASSERT_TRUE(modified->findAndGetOFString(DCM_SOPInstanceUID, a).good());
  file->getDataset()->findAndGetOFString(DCM_SOPInstanceUID, b);
  EXPECT_EQ(a, b);
}

TEST(EncryptedAttributes, RoundTripOverSampleFiles)
{
  const std::vector<std::string> files = SampleFiles();
  ASSERT_GE(files.size(), 20u) << "pydicom test files missing";
  const std::string dir = MakeTempDir();

  EncryptedAttributesWriter writer({Custodian().certificatePem});
  RecipientPrivateKey key(Custodian().keyPem);
  size_t done = 0;

  for (const std::string& path : files)
  {
    const std::string name = path.substr(path.rfind('/') + 1);
    SCOPED_TRACE(name);
    std::unique_ptr<DcmFileFormat> original = Load(path);
    std::unique_ptr<DcmFileFormat> deidentified = Load(path);
    std::unique_ptr<DcmItem> originals = SimulateDeidentification(*deidentified);
    writer.Protect(*deidentified->getDataset(), *originals);

    // Through a real file in the original transfer syntax.
    const std::string written = SaveToTemp(*deidentified, dir, name);
    std::unique_ptr<DcmFileFormat> reread = Load(written);
    ASSERT_TRUE(reread) << name;
    EXPECT_TRUE(HasEncryptedAttributes(*reread->getDataset()));

    DcmElement* patientName = nullptr;
    if (reread->getDataset()->findAndGetElement(DCM_PatientName, patientName).good() &&
        patientName->getVR() == EVR_PN)
    {
      OFString dummyName;
      patientName->getOFStringArray(dummyName);
      EXPECT_EQ(std::string("DUMMY"), dummyName.c_str());
    }

    ReidentificationResult result = Reidentify(*reread, key);
    EXPECT_EQ(originals->card() + (originals->tagExists(DCM_SOPInstanceUID) ? 0 : 1), result.restoredAttributes);
    OFString removed;
    reread->getDataset()->findAndGetOFString(DCM_PatientIdentityRemoved, removed);
    EXPECT_EQ(std::string("NO"), removed.c_str());   // E.1.2 step 3
    EXPECT_EQ(UidText(*original->getDataset(), DCM_SOPInstanceUID),
              UidText(*reread->getMetaInfo(), DCM_MediaStorageSOPInstanceUID));

    // And once more through a file, as a re-identified copy would be stored.
    const std::string restoredPath = SaveToTemp(*reread, dir, "restored-" + name);
    std::unique_ptr<DcmFileFormat> restored = Load(restoredPath);
    ASSERT_TRUE(restored);
    ExpectRestored(*original, *restored, name);
    done++;
  }

  EXPECT_EQ(files.size(), done);
  RunCommand("rm -rf " + dir);
}

TEST(EncryptedAttributes, AllThreeCiphers)
{
  const std::map<ContentCipher, std::string> oids = {
    { ContentCipher::AES256, std::string("\x06\x09\x60\x86\x48\x01\x65\x03\x04\x01\x2a", 11) },
    { ContentCipher::AES128, std::string("\x06\x09\x60\x86\x48\x01\x65\x03\x04\x01\x02", 11) },
    { ContentCipher::TripleDES, std::string("\x06\x08\x2a\x86\x48\x86\xf7\x0d\x03\x07", 10) }
  };

  for (const auto& cipher : oids)
  {
    SCOPED_TRACE(ToString(cipher.first));
    auto files = ProtectSample({Custodian().certificatePem}, cipher.first);
    const std::string der = GetEncryptedContent(*files.second->getDataset());
    EXPECT_NE(std::string::npos, der.find(cipher.second));
    for (const auto& other : oids)
    {
      if (other.first != cipher.first)
      {
        EXPECT_EQ(std::string::npos, der.find(other.second));
      }
    }

    Reidentify(*files.second, RecipientPrivateKey(Custodian().keyPem));
    ExpectRestored(*files.first, *files.second, ToString(cipher.first));
  }
}

TEST(EncryptedAttributes, TwoRecipientsEachDecrypt)
{
  for (const KeyPair* keys : { &Custodian(), &SecondRecipient() })
  {
    auto files = ProtectSample({Custodian().certificatePem, SecondRecipient().certificatePem});
    Reidentify(*files.second, RecipientPrivateKey(keys->keyPem));
    ExpectRestored(*files.first, *files.second, "two recipients");
  }

  auto files = ProtectSample({Custodian().certificatePem, SecondRecipient().certificatePem});
  try
  {
    Reidentify(*files.second, RecipientPrivateKey(Stranger().keyPem));
    FAIL() << "a third key must not decrypt";
  }
  catch (DeidError& e)
  {
    EXPECT_EQ(ErrorCode::Crypto, e.GetCode());
  }
}

TEST(EncryptedAttributes, SecondItemForAnotherRecipient)
{
  // Two Encrypted Attributes items (one per recipient): E.1.2 uses any item
  // that the key opens.
  const std::string path = std::string(TEST_FILES) + "/MR_small.dcm";
  std::unique_ptr<DcmFileFormat> original = Load(path);
  std::unique_ptr<DcmFileFormat> file = Load(path);
  std::unique_ptr<DcmItem> originals = SimulateDeidentification(*file);
  EncryptedAttributesWriter({Custodian().certificatePem}).Protect(*file->getDataset(), *originals);
  EncryptedAttributesWriter({SecondRecipient().certificatePem}, ContentCipher::TripleDES).Protect(*file->getDataset(), *originals);

  DcmSequenceOfItems* sequence = nullptr;
  ASSERT_TRUE(file->getDataset()->findAndGetSequence(DCM_EncryptedAttributesSequence, sequence).good());
  EXPECT_EQ(2u, sequence->card());

  Reidentify(*file, RecipientPrivateKey(SecondRecipient().keyPem));
  ExpectRestored(*original, *file, "second item");
}

TEST(EncryptedAttributes, WrongKeyChangesNothing)
{
  auto files = ProtectSample({Custodian().certificatePem});
  DcmDataset& dataset = *files.second->getDataset();
  const std::string before = Encode(dataset, EXS_LittleEndianExplicit);

  try
  {
    Reidentify(*files.second, RecipientPrivateKey(Stranger().keyPem));
    FAIL() << "the wrong key must not decrypt";
  }
  catch (DeidError& e)
  {
    EXPECT_EQ(ErrorCode::Crypto, e.GetCode());
    EXPECT_NE(std::string::npos, std::string(e.what()).find("Encrypted Attributes"));
  }

  EXPECT_EQ(before, Encode(dataset, EXS_LittleEndianExplicit));   // no partial output
}

TEST(EncryptedAttributes, EncryptedPrivateKey)
{
  const KeyPair keys = MakeKeyPair("protected key", "s3cret");
  auto files = ProtectSample({keys.certificatePem});

  EXPECT_THROW(RecipientPrivateKey(keys.keyPem), DeidError);              // no password: never prompts
  EXPECT_THROW(RecipientPrivateKey(keys.keyPem, "wrong"), DeidError);
  EXPECT_THROW(RecipientPrivateKey("garbage"), DeidError);

  Reidentify(*files.second, RecipientPrivateKey(keys.keyPem, "s3cret"));
  ExpectRestored(*files.first, *files.second, "password");
}

TEST(EncryptedAttributes, CorruptedContentIsAnError)
{
  const std::string der = GetEncryptedContent(*ProtectSample({Custodian().certificatePem}).second->getDataset());

  std::vector<std::pair<std::string, std::string>> corruptions;
  corruptions.emplace_back("truncated", der.substr(0, der.size() / 2));
  corruptions.emplace_back("not DER", std::string(der.size(), '\x42'));
  corruptions.emplace_back("last byte", der.substr(0, der.size() - 1) + static_cast<char>(der.back() ^ 0x5a));

  // Flip bytes inside the RSA-encrypted content-encryption key (the 256-byte
  // OCTET STRING of the recipient info).
  const size_t encryptedKey = der.find(std::string("\x04\x82\x01\x00", 4));
  ASSERT_NE(std::string::npos, encryptedKey);
  std::string flippedKey = der;
  flippedKey[encryptedKey + 100] ^= 0x01;
  corruptions.emplace_back("encrypted key", flippedKey);

  for (const auto& corruption : corruptions)
  {
    SCOPED_TRACE(corruption.first);
    auto files = ProtectSample({Custodian().certificatePem});
    DcmDataset& dataset = *files.second->getDataset();
    SetEncryptedContent(dataset, corruption.second);
    const std::string before = Encode(dataset, EXS_LittleEndianExplicit);

    try
    {
      Reidentify(*files.second, RecipientPrivateKey(Custodian().keyPem));
      FAIL() << "corrupted content must not re-identify";
    }
    catch (DeidError& e)
    {
      EXPECT_TRUE(e.GetCode() == ErrorCode::Crypto || e.GetCode() == ErrorCode::BadInput);
    }
    EXPECT_EQ(before, Encode(dataset, EXS_LittleEndianExplicit));
  }
}

TEST(EncryptedAttributes, MissingSequenceIsBadInput)
{
  std::unique_ptr<DcmFileFormat> file = Load(std::string(TEST_FILES) + "/CT_small.dcm");
  EXPECT_FALSE(HasEncryptedAttributes(*file->getDataset()));
  try
  {
    Reidentify(*file, RecipientPrivateKey(Custodian().keyPem));
    FAIL();
  }
  catch (DeidError& e)
  {
    EXPECT_EQ(ErrorCode::BadInput, e.GetCode());
  }
}

TEST(EncryptedAttributes, InvalidDecryptedContentIsBadInput)
{
  // Validly encrypted, but not an Encrypted Attributes Data Set.
  std::unique_ptr<DcmFileFormat> file = Load(std::string(TEST_FILES) + "/CT_small.dcm");
  EncryptedAttributesWriter writer({Custodian().certificatePem});
  DcmItem item;
  item.putAndInsertString(DCM_EncryptedContentTransferSyntaxUID, ENCRYPTED_CONTENT_TRANSFER_SYNTAX);
  const std::string der = writer.Encrypt("this is not DICOM at all");
  item.putAndInsertUint8Array(DCM_EncryptedContent, reinterpret_cast<const Uint8*>(der.data()), der.size());
  DcmSequenceOfItems* sequence = new DcmSequenceOfItems(DCM_EncryptedAttributesSequence);
  sequence->append(new DcmItem(item));
  file->getDataset()->insert(sequence, true);

  try
  {
    Reidentify(*file, RecipientPrivateKey(Custodian().keyPem));
    FAIL();
  }
  catch (DeidError& e)
  {
    EXPECT_EQ(ErrorCode::BadInput, e.GetCode());
  }
  EXPECT_TRUE(file->getDataset()->tagExists(DCM_EncryptedAttributesSequence));
}

TEST(EncryptedAttributes, DeeplyNestedOriginalsAreRefused)
{
  // Originals nested deeper than the maximum nesting depth (NestingDepth.h),
  // as a crafted file encrypted for the custodian's public certificate may
  // hold, are refused before anything is restored; up to the maximum they
  // are restored.
  for (unsigned int depth : { 32u, 33u, 40u })
  {
    SCOPED_TRACE(depth);
    std::unique_ptr<DcmFileFormat> file = Load(std::string(TEST_FILES) + "/CT_small.dcm");
    DcmItem originals;
    originals.putAndInsertString(DCM_SOPInstanceUID, "1.2.3.4.5");
    DcmItem* item = &originals;
    for (unsigned int i = 0; i < depth; i++)
    {
      DcmItem* child = nullptr;
      ASSERT_TRUE(item->findOrCreateSequenceItem(DCM_ContentSequence, child, -2).good());
      child->putAndInsertString(DCM_ValueType, "TEXT");
      item = child;
    }
    EncryptedAttributesWriter({Custodian().certificatePem}).Protect(*file->getDataset(), originals);

    try
    {
      Reidentify(*file, RecipientPrivateKey(Custodian().keyPem));
      EXPECT_LE(depth, 32u);
      EXPECT_TRUE(file->getDataset()->tagExists(DCM_ContentSequence));
    }
    catch (DeidError& e)
    {
      EXPECT_GT(depth, 32u);
      EXPECT_EQ(ErrorCode::BadInput, e.GetCode());
      EXPECT_NE(std::string::npos, std::string(e.what()).find("nested more than")) << e.what();
      EXPECT_TRUE(file->getDataset()->tagExists(DCM_EncryptedAttributesSequence));   // nothing restored
    }
  }
}

TEST(EncryptedAttributes, GdcmanonReidentifiesOurOutput)
{
  if (!HasGdcmanon())
  {
    GTEST_SKIP() << "gdcmanon (libgdcm-tools) not installed";
  }

  const std::string dir = MakeTempDir();
  WriteText(dir + "/key.pem", Custodian().keyPem);
  size_t done = 0;

  for (const char* name : { "CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "test-SR.dcm" })
  {
    SCOPED_TRACE(name);
    for (ContentCipher cipher : { ContentCipher::AES256, ContentCipher::AES128, ContentCipher::TripleDES })
    {
      auto files = ProtectSample({Custodian().certificatePem}, cipher, name);
      const std::string in = SaveToTemp(*files.second, dir, std::string("ours-") + name);
      const std::string out = dir + "/gdcm-" + name;
      ASSERT_EQ(0, RunCommand("gdcmanon -d -k " + dir + "/key.pem -i " + in + " -o " + out)) << ToString(cipher);
      std::unique_ptr<DcmFileFormat> restored = Load(out);
      ASSERT_TRUE(restored);
      // GDCM removes (0012,0062) rather than setting NO: a marker, ignored.
      ExpectRestored(*files.first, *restored, std::string(name) + " by gdcmanon -d", false);
      done++;
    }
  }

  EXPECT_EQ(12u, done);
  RunCommand("rm -rf " + dir);
}

TEST(EncryptedAttributes, WeReidentifyGdcmanonOutput)
{
  if (!HasGdcmanon())
  {
    GTEST_SKIP() << "gdcmanon (libgdcm-tools) not installed";
  }

  const std::string dir = MakeTempDir();
  WriteText(dir + "/cert.pem", Custodian().certificatePem);
  RecipientPrivateKey key(Custodian().keyPem);
  size_t done = 0;

  const std::vector<std::pair<const char*, const char*>> cases = {
    { "CT_small.dcm", "--aes256" }, { "MR_small.dcm", "--aes128" }, { "rtplan.dcm", "--des3" },
    { "test-SR.dcm", "--aes256" }, { "MR_small_implicit.dcm", "--aes256" }, { "MR_small_bigendian.dcm", "--aes192" }
  };

  for (const auto& c : cases)
  {
    const std::string name = c.first;
    SCOPED_TRACE(name);
    const std::string in = std::string(TEST_FILES) + "/" + name;
    const std::string out = dir + "/gdcm-e-" + name;
    ASSERT_EQ(0, RunCommand("gdcmanon -e " + std::string(c.second) + " -c " + dir + "/cert.pem -i " + in + " -o " + out));

    std::unique_ptr<DcmFileFormat> original = Load(in);
    std::unique_ptr<DcmFileFormat> file = Load(out);
    ASSERT_TRUE(original && file);
    ASSERT_TRUE(HasEncryptedAttributes(*file->getDataset()));

    // gdcmanon really de-identified it.
    OFString sopOriginal, sopProtected;
    original->getDataset()->findAndGetOFString(DCM_SOPInstanceUID, sopOriginal);
    file->getDataset()->findAndGetOFString(DCM_SOPInstanceUID, sopProtected);
    EXPECT_NE(sopOriginal, sopProtected);

    Reidentify(*file, key);
    const std::string restoredPath = SaveToTemp(*file, dir, "restored-" + name);
    std::unique_ptr<DcmFileFormat> restored = Load(restoredPath);
    ASSERT_TRUE(restored);
    ExpectRestored(*original, *restored, name + " from gdcmanon -e");
    done++;
  }

  EXPECT_EQ(cases.size(), done);
  RunCommand("rm -rf " + dir);
}


// ---- With the real engine: Deidentifier (collectOriginals) + Protect ----

#include "Engine/DefaultProviders.h"
#include "Engine/Deidentifier.h"
#include "Engine/Profile.h"

namespace
{
  // De-identifies "path" with the profile, protecting the originals for the
  // custodian; returns the protected file as written to disk and re-read.
  std::unique_ptr<DcmFileFormat> DeidentifyAndProtect(const std::string& path, const Profile& profile,
                                                      const std::string& dir, const std::string& outName,
                                                      size_t& collected)
  {
    std::unique_ptr<DcmFileFormat> file = Load(path);
    if (!file)
    {
      return nullptr;
    }

    RandomUidProvider uids;
    RandomPseudonymProvider pseudonyms;
    FixedDateOffsetProvider dateOffsets(-30);
    ConservativeTextCleaner cleaner;
    DeidentificationContext context;
    context.uids = &uids;
    context.pseudonyms = &pseudonyms;
    context.dateOffsets = &dateOffsets;
    context.textCleaner = &cleaner;

    DeidentificationSettings settings;
    settings.collectOriginals = true;
    DeidentificationResult result = Deidentifier(profile).Apply(*file, context, settings);
    EXPECT_TRUE(result.modifiedAttributes);
    collected = result.modifiedAttributes->card();

    EncryptedAttributesWriter({Custodian().certificatePem}).Protect(*file->getDataset(), *result.modifiedAttributes);
    return Load(SaveToTemp(*file, dir, outName));
  }
}

TEST(EncryptedAttributes, DeidentifierRoundTripOverSampleFiles)
{
  const std::vector<std::string> files = SampleFiles();
  ASSERT_GE(files.size(), 20u);
  const std::string dir = MakeTempDir();
  std::shared_ptr<const ProfileTables> tables = ProfileTables::LoadEmbedded();
  RecipientPrivateKey key(Custodian().keyPem);

  const std::vector<OptionSet> optionSets = {
    OptionSet(),
    OptionSet({ Option::RetainUIDs, Option::RetainLongitudinalModifiedDates, Option::CleanDescriptors }),
    OptionSet({ Option::RetainSafePrivate, Option::RetainPatientCharacteristics })
  };

  // Headers only: ultrasound and secondary captures pass with their pixels
  // (without this switch they are refused, PS3.15 E.3.1).
  BurnedInTextPolicy acceptRisk = BurnedInTextPolicy::Default();
  acceptRisk.acceptRisk = true;

  size_t done = 0;
  for (const OptionSet& options : optionSets)
  {
    Profile profile(tables, options, "Basic", acceptRisk);
    for (const std::string& path : files)
    {
      const std::string name = path.substr(path.rfind('/') + 1);
      SCOPED_TRACE(name + " with " + profile.GetMethodDescription());

      size_t collected = 0;
      std::unique_ptr<DcmFileFormat> protectedFile;
      try
      {
        protectedFile = DeidentifyAndProtect(path, profile, dir, "deid-" + name, collected);
      }
      catch (DeidError& e)
      {
        ADD_FAILURE() << e.what();
        continue;
      }
      ASSERT_TRUE(protectedFile);
      EXPECT_GT(collected, 0u);

      std::unique_ptr<DcmFileFormat> original = Load(path);
      if (original->getDataset()->tagExists(DCM_PatientName) && options.IsEmpty())
      {
        // It really was de-identified.
        OFString a, b;
        original->getDataset()->findAndGetOFStringArray(DCM_PatientName, a);
        protectedFile->getDataset()->findAndGetOFStringArray(DCM_PatientName, b);
        if (!a.empty())
        {
          EXPECT_NE(a, b);
        }
      }

      Reidentify(*protectedFile, key);
      std::unique_ptr<DcmFileFormat> restored = Load(SaveToTemp(*protectedFile, dir, "reid-" + name));
      ASSERT_TRUE(restored);
      ExpectRestored(*original, *restored, name);
      done++;
    }
  }

  EXPECT_EQ(files.size() * optionSets.size(), done);
  RunCommand("rm -rf " + dir);
}

TEST(EncryptedAttributes, GdcmanonReidentifiesDeidentifierOutput)
{
  if (!HasGdcmanon())
  {
    GTEST_SKIP() << "gdcmanon (libgdcm-tools) not installed";
  }

  const std::string dir = MakeTempDir();
  WriteText(dir + "/key.pem", Custodian().keyPem);
  Profile profile(ProfileTables::LoadEmbedded(), OptionSet());

  for (const char* name : { "CT_small.dcm", "MR_small.dcm", "rtplan.dcm" })
  {
    SCOPED_TRACE(name);
    size_t collected = 0;
    std::unique_ptr<DcmFileFormat> protectedFile =
      DeidentifyAndProtect(std::string(TEST_FILES) + "/" + name, profile, dir, std::string("deid-") + name, collected);
    ASSERT_TRUE(protectedFile);
    const std::string in = dir + "/deid-" + name;
    const std::string out = dir + "/gdcm-" + name;
    ASSERT_EQ(0, RunCommand("gdcmanon -d -k " + dir + "/key.pem -i " + in + " -o " + out));
    std::unique_ptr<DcmFileFormat> restored = Load(out);
    std::unique_ptr<DcmFileFormat> original = Load(std::string(TEST_FILES) + "/" + name);
    ASSERT_TRUE(restored && original);
    ExpectRestored(*original, *restored, std::string(name) + " by gdcmanon -d", false);
  }

  RunCommand("rm -rf " + dir);
}


TEST(EncryptedAttributes, TwoLayersOfProtection)
{
  // An instance de-identified twice: re-identification with the second
  // recipient's key gives back the first protected instance (its own
  // Encrypted Attributes Sequence and markers), then the first key the original.
  const std::string path = std::string(TEST_FILES) + "/CT_small.dcm";
  std::unique_ptr<DcmFileFormat> original = Load(path);
  std::unique_ptr<DcmFileFormat> file = Load(path);
  std::unique_ptr<DcmItem> layer1 = SimulateDeidentification(*file);
  EncryptedAttributesWriter({Custodian().certificatePem}).Protect(*file->getDataset(), *layer1);
  DcmDataset& dataset = *file->getDataset();
  const std::string firstLayer = Encode(dataset, EXS_LittleEndianExplicit);

  DcmItem layer2;
  for (const DcmTagKey& key : { DCM_EncryptedAttributesSequence, DCM_PatientIdentityRemoved,
                                DCM_DeidentificationMethod, DCM_SOPInstanceUID })
  {
    DcmElement* element = nullptr;
    ASSERT_TRUE(dataset.findAndGetElement(key, element).good());
    layer2.insert(static_cast<DcmElement*>(element->clone()), true);
  }
  delete dataset.remove(DCM_EncryptedAttributesSequence);
  dataset.putAndInsertString(DCM_DeidentificationMethod, "second layer");
  char uid[100];
  dataset.putAndInsertString(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT));
  EncryptedAttributesWriter({SecondRecipient().certificatePem}).Protect(dataset, layer2);

  EXPECT_THROW(Reidentify(*file, RecipientPrivateKey(Custodian().keyPem)), DeidError);

  Reidentify(*file, RecipientPrivateKey(SecondRecipient().keyPem));
  EXPECT_EQ(firstLayer, Encode(dataset, EXS_LittleEndianExplicit));   // the first layer, exactly
  OFString removed;
  dataset.findAndGetOFString(DCM_PatientIdentityRemoved, removed);
  EXPECT_EQ(std::string("YES"), removed.c_str());

  Reidentify(*file, RecipientPrivateKey(Custodian().keyPem));
  ExpectRestored(*original, *file, "two layers");
}

TEST(EncryptedAttributes, FileMetaElementsAreNotMovedIntoTheDataSet)
{
  // A foreign encrypted data set holding a file meta element.
  DcmItem originals;
  originals.putAndInsertString(DCM_SOPInstanceUID, "1.2.3.4");
  originals.putAndInsertString(DCM_TransferSyntaxUID, UID_BigEndianExplicitTransferSyntax);
  std::unique_ptr<DcmFileFormat> file = Load(std::string(TEST_FILES) + "/CT_small.dcm");
  EncryptedAttributesWriter({Custodian().certificatePem}).Protect(*file->getDataset(), originals);

  ReidentificationResult result = Reidentify(*file, RecipientPrivateKey(Custodian().keyPem));
  EXPECT_EQ(1u, result.restoredAttributes);
  EXPECT_FALSE(file->getDataset()->tagExists(DCM_TransferSyntaxUID));
  EXPECT_EQ(std::string("1.2.3.4"), UidText(*file->getMetaInfo(), DCM_MediaStorageSOPInstanceUID));
}

TEST(EncryptedAttributes, CorruptionNeverRestoresWrongValues)
{
  // CMS EnvelopedData with CBC has no integrity protection: a flipped byte
  // in the ciphertext garbles one block of the plaintext. The SHA-256 digest
  // in the Encrypted Attributes Data Set turns that into an error. Whatever
  // byte is flipped, re-identification fails or restores the exact original.
  auto files = ProtectSample({Custodian().certificatePem});
  DcmDataset& dataset = *files.second->getDataset();
  const std::string der = GetEncryptedContent(dataset);
  const std::string expected = Encode(*files.first->getDataset(), EXS_LittleEndianExplicit);
  RecipientPrivateKey key(Custodian().keyPem);

  size_t errors = 0, exact = 0;
  for (size_t position = 0; position < der.size(); position += 3)
  {
    std::unique_ptr<DcmFileFormat> copy(new DcmFileFormat(*files.second));
    std::string corrupted = der;
    corrupted[position] ^= 0x40;
    SetEncryptedContent(*copy->getDataset(), corrupted);
    try
    {
      Reidentify(*copy, key);
      // Accepted: only if the values are the original ones.
      DcmDataset& restored = *copy->getDataset();
      delete restored.remove(DCM_PatientIdentityRemoved);
      DcmDataset original(*files.first->getDataset());
      delete original.remove(DCM_PatientIdentityRemoved);
      ASSERT_EQ(Encode(original, EXS_LittleEndianExplicit), Encode(restored, EXS_LittleEndianExplicit))
        << "byte " << position << " of the Encrypted Content was flipped and wrong values were restored";
      exact++;
    }
    catch (DeidError& e)
    {
      EXPECT_TRUE(e.GetCode() == ErrorCode::Crypto || e.GetCode() == ErrorCode::BadInput);
      errors++;
    }
  }
  EXPECT_GT(errors, 10 * exact);

  // The digest is there, and checked.
  const std::string plain = EncryptedAttributesWriter::EncodeEncryptedAttributesDataSet(
    *DecryptModifiedAttributes(dataset, key));
  EXPECT_EQ(ContentDigest::Verified, CheckContentDigest(plain));
  std::string altered = plain;
  altered[40] ^= 0x01;
  EXPECT_EQ(ContentDigest::Mismatch, CheckContentDigest(altered));
  EXPECT_EQ(ContentDigest::Absent, CheckContentDigest(EncryptedAttributesWriter::EncodeModifiedAttributes(
    *DecryptModifiedAttributes(dataset, key))));
}
