#include "Operations/ProviderFactory.h"

#include "Operations/KeyStoreService.h"

#include "Configuration/Configuration.h"

#include "Engine/DefaultProviders.h"
#include "Engine/PixelCleaner.h"
#include "Engine/SeriesDefacer.h"
#include "Engine/TextCleaner.h"

namespace Deid
{
  namespace
  {
    SeriesDefacer::SeriesLoader seriesLoader_;   // set once at start-up, read-only afterwards

    // Random values, consistent within the operation only.
    class DefaultOperationProviders : public OperationProviders
    {
    private:
      RandomUidProvider uids_;
      RandomPseudonymProvider pseudonyms_;
      FixedDateOffsetProvider dateOffsets_;
      VocabularyTextCleaner textCleaner_;   // action C on text (E.3.3-E.3.5); shared by the keyed providers
      RegionPixelCleaner pixelCleaner_;   // Clean Pixel Data (E.3.1): the configured regions
      // Clean Recognizable Visual Features (E.3.2): one plane per head CT
      // series of the operation, from the series stored in Orthanc.
      std::unique_ptr<SeriesDefacer> defacer_;

    public:
      DefaultOperationProviders(const PixelRegionRules& regions, const OcrSettings& ocr,
                                const OperationDescription& operation) :
        pixelCleaner_(regions, ocr)
      {
        // At ingestion the series is still arriving (and the received-instance
        // callback must not read Orthanc): head CT is refused there.
        if (operation.kind != "ingest" && seriesLoader_ && operation.profile &&
            operation.profile->GetOptions().Has(Option::CleanRecognizableVisualFeatures))
        {
          defacer_.reset(new SeriesDefacer(seriesLoader_));
          context_.defacer = defacer_.get();
        }
        context_.uids = &uids_;
        context_.pseudonyms = &pseudonyms_;
        context_.dateOffsets = &dateOffsets_;
        context_.textCleaner = &textCleaner_;
        context_.pixelCleaner = &pixelCleaner_;
      }
    };
  }

  void ProviderFactory::SetSeriesLoader(SeriesDefacer::SeriesLoader loader)
  {
    seriesLoader_ = std::move(loader);
  }

  std::unique_ptr<OperationProviders> ProviderFactory::Create(const OperationDescription& operation)
  {
    std::unique_ptr<OperationProviders> defaults(
      new DefaultOperationProviders(Configuration::Get().GetPixelRegions(), Configuration::Get().GetPixelOcr(),
                                    operation));
    if (KeyStoreService::IsInitialized())
    {
      // Stable HMAC-keyed UIDs, pseudonyms and date offsets of the project.
      return KeyStoreService::Get().WrapProviders(std::move(defaults), operation);
    }
    return defaults;
  }
}
