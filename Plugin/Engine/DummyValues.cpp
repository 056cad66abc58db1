// Dummy values for action D (PS3.15 Table E.1-1a).
#include "DummyValues.h"

namespace Deid
{
  bool IsStringVR(DcmEVR vr)
  {
    switch (vr)
    {
      case EVR_AE: case EVR_AS: case EVR_CS: case EVR_DA: case EVR_DS:
      case EVR_DT: case EVR_IS: case EVR_LO: case EVR_LT: case EVR_PN:
      case EVR_SH: case EVR_ST: case EVR_TM: case EVR_UC: case EVR_UI:
      case EVR_UR: case EVR_UT:
        return true;
      default:
        return false;
    }
  }

  std::string GetDummyString(DcmEVR vr)
  {
    switch (vr)
    {
      case EVR_DA: return "19000101";          // a valid, obviously artificial date
      case EVR_DT: return "19000101000000";
      case EVR_TM: return "000000";
      case EVR_AS: return "000D";              // "0 days": no age information
      case EVR_DS: return "0";
      case EVR_IS: return "0";
      case EVR_UR: return "urn:deidentified";  // a valid absolute URI (RFC 3986)
      case EVR_AE: case EVR_CS: case EVR_LO: case EVR_LT: case EVR_PN:
      case EVR_SH: case EVR_ST: case EVR_UC: case EVR_UT:
        return "ANONYMOUS";                    // valid for every text VR (CS: upper case, <= 16)
      default:
        return std::string();                  // UI and binary VRs: see the header
    }
  }

  size_t GetDummyBinarySize(DcmEVR vr)
  {
    switch (vr)
    {
      case EVR_US: case EVR_SS: case EVR_OB: case EVR_OW: case EVR_UN:
        return 2;
      case EVR_UL: case EVR_SL: case EVR_FL: case EVR_AT: case EVR_OL: case EVR_OF:
        return 4;
      case EVR_FD: case EVR_SV: case EVR_UV: case EVR_OD: case EVR_OV:
        return 8;
      default:
        return 0;
    }
  }

  DcmEVR NormalizeVR(DcmEVR vr)
  {
    switch (vr)
    {
      case EVR_xs: return EVR_US;
      case EVR_lt: case EVR_ox: case EVR_px: case EVR_PixelData: case EVR_OverlayData:
        return EVR_OW;
      case EVR_up: return EVR_UL;
      case EVR_pixelSQ: return EVR_SQ;
      case EVR_na: case EVR_item: case EVR_pixelItem: case EVR_dirRecord: case EVR_dicomDir:
      case EVR_metainfo: case EVR_dataset: case EVR_fileFormat: case EVR_UNKNOWN:
      case EVR_UNKNOWN2B:
        return EVR_UN;
      default:
        return vr;
    }
  }
}
