// PS3.15 E.3.3-E.3.5: the text the cleaner keeps must not repeat the
// instance's own identifying values. They are the string values of the
// attributes the Basic Profile removes or replaces (Table E.1-1), anywhere in
// the data set: every person name (PN, also where the table does not list
// it, e.g. in SR content items), IDs, addresses, phone numbers, institution
// and department names, accession numbers and dates. The descriptors the Clean
// options clean themselves (C in a Clean column) and free texts (LT, ST, UT)
// are not identifying values: they hold the clinical words to keep.

#include "IdentifyingValues.h"

#include "ProfileTables.h"

#include <dcmtk/dcmdata/dcelem.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcvr.h>

#include <set>

namespace Deid
{
  namespace
  {
    // Bounded cost (the cleaner compares each text with every value).
    const unsigned int MAXIMUM_DEPTH = 8;
    const size_t MAXIMUM_VALUES = 512;
    const size_t MAXIMUM_VALUE_LENGTH = 1024;

    bool IsCollectedVR(DcmEVR vr)
    {
      return vr == EVR_PN || vr == EVR_LO || vr == EVR_SH || vr == EVR_DA || vr == EVR_DT || vr == EVR_UC;
    }

    class Collector
    {
    private:
      const ProfileTables& tables_;
      std::vector<IdentifyingValue>& values_;
      std::set<std::pair<std::string, std::string>> seen_;   // (vr, value)

      bool IsIdentifying(const DcmTagKey& key, DcmEVR vr) const
      {
        if (vr == EVR_PN)
        {
          return true;
        }
        if ((key.getGroup() & 1) != 0 || !IsCollectedVR(vr))
        {
          return false;   // private elements are removed by the profile anyway
        }
        const AttributeRule* rule = tables_.FindRule(key.getGroup(), key.getElement());
        if (rule == nullptr || rule->basic == ActionCode::K || rule->basic == ActionCode::None)
        {
          return false;
        }
        for (Option clean : { Option::CleanDescriptors, Option::CleanStructuredContent, Option::CleanGraphics })
        {
          if (rule->GetOptionAction(clean) == ActionCode::C)
          {
            return false;
          }
        }
        return true;
      }

      void Add(DcmElement& element, DcmEVR vr)
      {
        OFString value;
        if (element.getOFStringArray(value).bad() || value.empty() || value.length() > MAXIMUM_VALUE_LENGTH)
        {
          return;
        }
        IdentifyingValue item;
        item.tag = element.getTag();
        item.vr = DcmVR(vr).getVRName();
        item.value.assign(value.c_str(), value.length());
        if (seen_.insert(std::make_pair(item.vr, item.value)).second)
        {
          values_.push_back(item);
        }
      }

    public:
      Collector(const ProfileTables& tables, std::vector<IdentifyingValue>& values) :
        tables_(tables),
        values_(values)
      {
      }

      void Visit(DcmItem& item, unsigned int depth)
      {
        for (unsigned long i = 0; i < item.card() && values_.size() < MAXIMUM_VALUES; i++)
        {
          DcmElement* element = item.getElement(i);
          if (element == nullptr)
          {
            continue;
          }
          DcmEVR vr = element->getTag().getEVR();
          if (vr == EVR_SQ)
          {
            DcmSequenceOfItems* sequence = dynamic_cast<DcmSequenceOfItems*>(element);
            if (sequence != nullptr && depth < MAXIMUM_DEPTH)
            {
              for (unsigned long k = 0; k < sequence->card() && values_.size() < MAXIMUM_VALUES; k++)
              {
                DcmItem* nested = sequence->getItem(k);
                if (nested != nullptr)
                {
                  Visit(*nested, depth + 1);
                }
              }
            }
          }
          else if (IsIdentifying(element->getTag(), vr))
          {
            Add(*element, vr);
          }
        }
      }
    };
  }


  std::vector<IdentifyingValue> CollectIdentifyingValues(DcmDataset& dataset)
  {
    static const std::shared_ptr<const ProfileTables> tables = ProfileTables::LoadEmbedded();
    std::vector<IdentifyingValue> values;
    Collector(*tables, values).Visit(dataset, 0);
    return values;
  }
}
