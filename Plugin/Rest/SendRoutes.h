// POST /{patients|studies|series|instances}/{id}/deidentify/send: sends the
// de-identified instances of a resource to one destination, each with the
// profile its rule decides (fail closed), as an Orthanc job.
//   Body: exactly one of { "Modality": name } (C-STORE to Orthanc's
//         "DicomModalities"), { "Peer": name } ("OrthancPeers"),
//         { "DicomWeb": name } (the DICOMweb plugin's "DicomWeb.Servers");
//         plus "Store" (false: keep no de-identified copy here),
//         "Synchronous" (false), "Priority" (0). Other keys are a 400.
//   Answer: { "ID", "Path" } of the job; with "Synchronous": true the same
//           plus the job's content (counts, refused and failed instances).
//   An unknown destination is a 404 naming it, before anything is done.
#pragma once

namespace Deid
{
  void RegisterSendRoutes();
}
