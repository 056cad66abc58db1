// The fuzz target of the engine: see FuzzTarget.h.
#include "FuzzTarget.h"

#include "Engine/DefaultProviders.h"
#include "Engine/DeidError.h"
#include "Engine/Deidentifier.h"
#include "Engine/DicomFile.h"
#include "Engine/EncryptedAttributes.h"
#include "Engine/BurnedInText.h"
#include "Engine/Profile.h"
#include "Engine/ProfileTables.h"
#include "Engine/SeriesDefacer.h"
#include "Engine/TextCleaner.h"
#include "Engine/Reidentifier.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/oflog/oflog.h>

#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <typeinfo>
#include <vector>

namespace Deid
{
  namespace Fuzzing
  {
    namespace
    {
      std::string ReadBio(BIO* bio)
      {
        BUF_MEM* memory = nullptr;
        BIO_get_mem_ptr(bio, &memory);
        return std::string(memory->data, memory->length);
      }

      // A throwaway RSA key and self-signed certificate, made in memory when
      // the harness starts: no private key is ever written or committed.
      struct TestRecipient
      {
        std::unique_ptr<RecipientPrivateKey> key;
        std::unique_ptr<EncryptedAttributesWriter> writer;

        TestRecipient()
        {
          EVP_PKEY* pkey = EVP_RSA_gen(2048);
          X509* x509 = X509_new();
          if (pkey == nullptr || x509 == nullptr)
          {
            Fail("cannot generate the test key");
          }
          X509_set_version(x509, 2);
          ASN1_INTEGER_set(X509_get_serialNumber(x509), 1);
          X509_gmtime_adj(X509_getm_notBefore(x509), 0);
          X509_gmtime_adj(X509_getm_notAfter(x509), 86400L);
          X509_set_pubkey(x509, pkey);
          X509_NAME* name = X509_get_subject_name(x509);
          X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>("fuzz test recipient"), -1, -1, 0);
          X509_set_issuer_name(x509, name);
          X509_sign(x509, pkey, EVP_sha256());

          BIO* keyBio = BIO_new(BIO_s_mem());
          PEM_write_bio_PrivateKey(keyBio, pkey, nullptr, nullptr, 0, nullptr, nullptr);
          BIO* certBio = BIO_new(BIO_s_mem());
          PEM_write_bio_X509(certBio, x509);

          key.reset(new RecipientPrivateKey(ReadBio(keyBio)));
          writer.reset(new EncryptedAttributesWriter({ ReadBio(certBio) }));

          BIO_free(keyBio);
          BIO_free(certBio);
          X509_free(x509);
          EVP_PKEY_free(pkey);
        }
      };

      // The option sets of the plugin's common requests (PS3.15 E.3).
      struct Harness
      {
        std::shared_ptr<const ProfileTables> tables;
        std::vector<std::unique_ptr<Profile>> profiles;   // profiles[0] also encrypts
        TestRecipient recipient;

        Harness() :
          tables(ProfileTables::LoadEmbedded())
        {
          // DCMTK logs warnings for every oddity of the input: keep the
          // fuzzer's output readable.
          OFLog::configure(OFLogger::FATAL_LOG_LEVEL);

          // Headers only: instances that may carry burned-in text pass with
          // their pixels (otherwise refused, PS3.15 E.3.1), so that every
          // input reaches the attribute-level walk.
          BurnedInTextPolicy acceptRisk = BurnedInTextPolicy::Default();
          acceptRisk.acceptRisk = true;
          profiles.emplace_back(new Profile(tables, OptionSet(), "Basic", acceptRisk));
          profiles.emplace_back(new Profile(tables, OptionSet{ Option::RetainUIDs,
                                                               Option::RetainLongitudinalModifiedDates },
                                            "Basic", acceptRisk));
          profiles.emplace_back(new Profile(tables, OptionSet{ Option::CleanDescriptors,
                                                               Option::CleanStructuredContent,
                                                               Option::CleanGraphics,
                                                               Option::RetainSafePrivate },
                                            "Basic", acceptRisk));
          // Defacing (E.3.2): the input's own slice read, fitted and rewritten.
          profiles.emplace_back(new Profile(tables, OptionSet{ Option::CleanRecognizableVisualFeatures },
                                            "Basic", acceptRisk));
        }
      };

      Harness& GetHarness()
      {
        static Harness harness;
        return harness;
      }

      // The plugin's own providers for one operation (random UIDs and
      // pseudonyms, as without a key store; a non-zero date offset).
      struct Providers
      {
        RandomUidProvider uids;
        RandomPseudonymProvider pseudonyms;
        FixedDateOffsetProvider dateOffsets{ -1234 };
        VocabularyTextCleaner cleaner;   // the plugin's text cleaner (action C)
        // A "series" of ten copies of the input's slice (small samples).
        SeriesDefacer defacer{ [](DcmDataset& instance)
                               { return std::vector<SliceSample>(10, ReadSliceSample(instance, 32)); } };
        DeidentificationContext context;

        Providers()
        {
          context.defacer = &defacer;
          context.uids = &uids;
          context.pseudonyms = &pseudonyms;
          context.dateOffsets = &dateOffsets;
          context.textCleaner = &cleaner;
        }
      };

      // Our output must be a DICOM file we can read again (a de-identified
      // instance must stay a valid instance).
      std::unique_ptr<DcmFileFormat> ReparseOutput(const std::string& output, const char* what)
      {
        try
        {
          return ParseDicom(output.data(), output.size());
        }
        catch (const DeidError& e)
        {
          Fail(std::string("the output of ") + what + " does not parse again: " + e.what());
        }
      }

      // One option set: de-identify a copy, (optionally) add the Encrypted
      // Attributes Sequence, write, read the output again, and re-identify it.
      void DeidentifyCopy(const DcmFileFormat& original, const Profile& profile,
                          const EncryptedAttributesWriter* writer, const RecipientPrivateKey* key,
                          Outcome& outcome)
      {
        DcmFileFormat copy(original);
        Providers providers;
        DeidentificationSettings settings;
        settings.recordChanges = true;               // the preview route's path
        settings.collectOriginals = (writer != nullptr);

        std::string output;
        try
        {
          Deidentifier deidentifier(profile);
          DeidentificationResult result = deidentifier.Apply(copy, providers.context, settings);
          if (writer != nullptr && result.modifiedAttributes)
          {
            writer->Protect(*copy.getDataset(), *result.modifiedAttributes);
          }
          output = WriteDicom(copy);
        }
        catch (const DeidError&)
        {
          outcome.refused++;   // a clear error: what the routes answer with 400
          return;
        }
        outcome.deidentified++;

        std::unique_ptr<DcmFileFormat> written = ReparseOutput(output, "de-identification");

        if (key != nullptr)
        {
          // E.1.2 on our own output with the right key must work.
          try
          {
            Reidentify(*written, *key);
            outcome.roundTrip = true;
          }
          catch (const DeidError& e)
          {
            Fail(std::string("our encrypted output does not re-identify: ") + e.what());
          }
          ReparseOutput(WriteDicom(*written), "re-identification");
        }
      }

      // The bytes as a decrypted Encrypted Attributes Data Set: encrypted for
      // the test recipient inside a minimal instance, then re-identified, so
      // the decoder of E.1.2 sees arbitrary content too.
      void ReidentifyAsContent(const uint8_t* data, size_t size, Harness& harness, Outcome& outcome)
      {
        static const char* const SYNTAXES[] = {
          UID_LittleEndianExplicitTransferSyntax,
          UID_LittleEndianImplicitTransferSyntax,
          UID_BigEndianExplicitTransferSyntax
        };

        DcmFileFormat file;
        DcmDataset& dataset = *file.getDataset();
        dataset.putAndInsertString(DCM_SOPClassUID, UID_SecondaryCaptureImageStorage);
        dataset.putAndInsertString(DCM_SOPInstanceUID, "2.25.1");
        dataset.putAndInsertString(DCM_PatientID, "ANON");

        DcmItem* item = nullptr;
        dataset.findOrCreateSequenceItem(DCM_EncryptedAttributesSequence, item, -2);
        const std::string cms = harness.recipient.writer->Encrypt(
          std::string(reinterpret_cast<const char*>(data), size));
        item->putAndInsertString(DCM_EncryptedContentTransferSyntaxUID, SYNTAXES[size % 3]);
        item->putAndInsertUint8Array(DCM_EncryptedContent, reinterpret_cast<const Uint8*>(cms.data()),
                                     static_cast<unsigned long>(cms.size()));

        try
        {
          Reidentify(file, *harness.recipient.key);
          outcome.contentDecoded = true;
          WriteDicom(file);
        }
        catch (const DeidError&)
        {
        }
      }
    }


    void Fail(const std::string& invariant)
    {
      fprintf(stderr, "DEID FUZZ INVARIANT BROKEN: %s\n", invariant.c_str());
      fflush(stderr);
      abort();
    }


    Outcome RunOneInput(const uint8_t* data, size_t size)
    {
      Harness& harness = GetHarness();
      Outcome outcome;
      if (size > MAX_INPUT_SIZE)
      {
        size = MAX_INPUT_SIZE;
      }

      try
      {
        ReidentifyAsContent(data, size, harness, outcome);

        std::unique_ptr<DcmFileFormat> file;
        try
        {
          file = ParseDicom(data, size);
        }
        catch (const DeidError&)
        {
          return outcome;   // refused with a clear error (a 400 in the plugin)
        }
        outcome.parsed = true;

        // Re-identification of the input as uploaded to /tools/reidentify.
        {
          DcmFileFormat copy(*file);
          try
          {
            Reidentify(copy, *harness.recipient.key);
            WriteDicom(copy);
          }
          catch (const DeidError&)
          {
          }
        }

        // Basic Profile with one recipient, then the other option sets.
        DeidentifyCopy(*file, *harness.profiles[0], harness.recipient.writer.get(),
                       harness.recipient.key.get(), outcome);
        for (size_t i = 0; i < harness.profiles.size(); i++)
        {
          DeidentifyCopy(*file, *harness.profiles[i], nullptr, nullptr, outcome);
        }
      }
      catch (const DeidError& e)
      {
        Fail(std::string("a DeidError escaped a step of the harness: ") + e.what());
      }
      catch (const std::exception& e)
      {
        // The routes would answer 500 and the job would fail: not a crash,
        // but not the clear error every bad input must get either.
        Fail(std::string("an exception other than DeidError escaped the engine: ") + typeid(e).name());
      }

      return outcome;
    }
  }
}
