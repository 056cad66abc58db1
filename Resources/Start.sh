#!/usr/bin/env bash
# Builds the plugin and starts Debian's Orthanc with it, on loopback, with
# local storage in ./OrthancStorage and the embedded SQLite key store.
#   HTTP port: $DEID_HTTP_PORT (default 8042), DICOM port: $DEID_DICOM_PORT (default 4242)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

bash Resources/Install.sh
bash Resources/Build.sh

HTTP_PORT=${DEID_HTTP_PORT:-8042}
DICOM_PORT=${DEID_DICOM_PORT:-4242}
STORAGE="$ROOT/OrthancStorage"
mkdir -p "$STORAGE"

CONFIG="$STORAGE/orthanc.json"
if [ ! -f "$CONFIG" ]; then
  cat > "$CONFIG" <<JSON
{
  "Name": "Deidentification",
  "StorageDirectory": "$STORAGE",
  "IndexDirectory": "$STORAGE",
  "HttpPort": $HTTP_PORT,
  "DicomPort": $DICOM_PORT,
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false,
  "Plugins": [ "$ROOT/build/libOrthancDeidentification.so" ],
  "UserMetadata": { "DeidentifiedFrom": 4601, "DeidentificationJob": 4602 },
  "Deidentification": {
    "DefaultProfile": "Basic",
    "Profiles": {
      "research": { "Options": [ "RetainLongitudinalModifiedDates", "RetainPatientCharacteristics", "CleanDescriptors" ] }
    },
    "KeyStore": { "Type": "SQLite" }
  }
}
JSON
fi

echo
echo "Orthanc with the de-identification plugin:"
echo "  Explorer:  http://127.0.0.1:$HTTP_PORT/app/explorer.html"
echo "  REST:      http://127.0.0.1:$HTTP_PORT/deidentification/profiles"
echo "  Config:    $CONFIG (edit it and restart to change profiles)"
echo "  Stop with Ctrl-C."
echo
exec /usr/sbin/Orthanc "$CONFIG"
