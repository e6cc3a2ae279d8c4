#!/bin/sh
# The CJK font that PDF reports embed (domain/reports/pdf.py): Debian's fonts-noto-cjk.
# Nothing to do when the font file is there or STOCKGRAPH_CJK_FONT names one; otherwise
# apt-get installs it (as root, or through passwordless sudo), its output kept in a log.
set -u
[ -n "${STOCKGRAPH_CJK_FONT:-}" ] && exit 0
for font in /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc \
            /usr/share/fonts/opentype/noto-cjk/NotoSansCJK-Regular.ttc; do
    [ -e "$font" ] && exit 0
done
hint="PDF reports need a CJK font: install Debian's fonts-noto-cjk, or set STOCKGRAPH_CJK_FONT=/path/to/NotoSansCJK-Regular.ttc"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "note: $hint" >&2
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1 || ! sudo -n true 2>/dev/null; then
        echo "note: $hint (apt-get needs root)" >&2
        exit 0
    fi
    sudo="sudo -n"
fi
log="${TMPDIR:-/tmp}/stockgraph-cjk-font.log"
echo "Installing the CJK font for PDF reports (fonts-noto-cjk; log: $log)..."
install() { $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends fonts-noto-cjk; }
if { install || { $sudo apt-get update -q && install; }; } >"$log" 2>&1; then
    echo "Installed fonts-noto-cjk."
else
    echo "note: apt-get could not install fonts-noto-cjk (see $log). $hint" >&2
fi
exit 0
