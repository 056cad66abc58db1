// Routes on single instances, which store nothing unless asked:
//   POST /instances/{id}/deidentify           -> the de-identified file (application/dicom);
//                                                with "Store": true, stores it and answers
//                                                Orthanc's JSON of the stored instance
//   POST /instances/{id}/deidentify/preview   -> JSON list of the touched elements
//   POST /tools/deidentify   body: a DICOM file -> the de-identified file; profile and options
//                            in the headers X-Deidentification-Profile / X-Deidentification-Options
//                            (or ?Profile=..&Options=.., if Orthanc passes GET arguments on POST)
#pragma once

namespace Deid
{
  void RegisterInstanceRoutes();
}
