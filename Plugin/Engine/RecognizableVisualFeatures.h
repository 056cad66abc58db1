// Clean Recognizable Visual Features (PS3.15 E.3.2): which instances can show
// a face, and the interface of the step that defaces them.
//
// Under the option, an instance that can show a face is refused unless a
// defacing step handled it (README "Clean Recognizable Visual Features and
// defacing"):
//  - head CT (defaced by IDefacer, Defacing.h) and head MR (refused: not
//    defaced by this version); "head" from Body Part Examined, the Anatomic
//    Region Sequence, or, when neither says anything, the descriptions
//    (HEAD, BRAIN, SKULL, FACE, ...) or a reconstruction field of view of at
//    most 300 mm in both directions (head-sized: fail closed);
//  - visible-light photographs of the outside of the body: VL Photographic,
//    Video Photographic, Dermoscopic Photography, Ophthalmic Photography, and
//    any instance with Modality XC (external camera);
//  - 3D renderings: Image Type containing VOLUME RENDERING, SURFACE
//    RENDERING, VOLUME_RENDER, 3D, and the Volume Rendering Volumetric
//    Presentation States;
//  - surface meshes and point clouds (Surface Segmentation, Surface Scan
//    Mesh / Point Cloud) and Segmentations, unless their body part is known
//    and not the head.
// Everything else passes unchanged (endoscopy, microscopy, chest CT, ...).
#pragma once

#include <dcmtk/dcmdata/dcdatset.h>

#include <cstddef>
#include <string>

namespace Deid
{
  enum class VisualFeatureKind
  {
    None,          // cannot show a face: passes unchanged
    HeadCt,        // defaced by IDefacer
    HeadMr,        // refused (not defaced)
    Photograph,    // refused
    Rendering,     // refused
    Surface        // refused
  };

  struct VisualFeatureRisk
  {
    VisualFeatureKind kind = VisualFeatureKind::None;
    // Why, naming attributes and the SOP Class only, never their values
    // beyond standard UIDs: e.g. "CT Image Storage (1.2.840.10008.5.1.4.1.1.2)
    // whose Body Part Examined (0018,0015) is the head".
    std::string reason;
  };

  // Reads the ORIGINAL data set (before the profile removes descriptions).
  VisualFeatureRisk ClassifyVisualFeatures(DcmItem& dataset);

  // What defacing did to one instance: counts only (safe for the audit).
  struct DefacingResult
  {
    bool defaced = false;          // RecognizableVisualFeatures (0028,0302) becomes NO
    size_t blankedPixels = 0;      // set to air on this slice
  };

  // Defaces one slice of a head CT series, called with the ORIGINAL data set
  // before the walk. Throws DeidError(Refused) naming the reason when it
  // cannot (series not available, encoding not handled, no face found...).
  // Implementations are thread-safe (one per operation, many threads).
  class IDefacer
  {
  public:
    virtual ~IDefacer() = default;
    virtual DefacingResult Deface(DcmDataset& dataset) = 0;
  };
}
