#!/usr/bin/env bash
# Installs every Debian 12 package the build, the plugin and the tests need.
# Only missing packages are installed; safe to run again.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  orthanc orthanc-dev liborthancframework-dev orthanc-dicomweb orthanc-postgresql
  libdcmtk-dev libsndfile1-dev dcmtk libssl-dev openssl libjsoncpp-dev libgtest-dev
  liblua5.3-dev libsqlite3-dev libpq-dev
  postgresql
  dicom3tools libgdcm-tools
  python3 python3-pydicom python3-pytest python3-requests
  python3-numpy python3-pil fonts-dejavu-core libfreetype-dev
  libtesseract-dev tesseract-ocr tesseract-ocr-eng
  wamerican hunspell-en-med pixelmed-apps
  openjdk-17-jdk-headless
  curl procps
  chromium nodejs
  clang-14 libclang-rt-14-dev libasan8 libubsan1
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# npm (browser tests): Debian ships it apart from nodejs; some nodejs builds include it.
if ! command -v npm >/dev/null 2>&1; then
  missing+=("npm")
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  # Do not let package scripts start services (Orthanc, PostgreSQL) on this machine:
  # the project starts its own on loopback ports.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
