// Routes on single instances, which store nothing unless asked:
//   POST /instances/{id}/deidentify           -> the de-identified file (application/dicom);
//                                                with "Store": true, stores it and answers
//                                                Orthanc's JSON of the stored instance
//   POST /instances/{id}/deidentify/preview   -> JSON list of the touched elements
//   POST /tools/deidentify?Profile=..&Options=..   body: a DICOM file -> the de-identified file
#pragma once

namespace Deid
{
  void RegisterInstanceRoutes();
}
