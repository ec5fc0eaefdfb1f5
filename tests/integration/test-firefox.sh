#!/bin/bash
# firefox-esr through the proxy on headless sway: its window maps with the
# labelled title and app_id, and it draws the page (a local file with a
# solid red background and a known title, so "drawn" is measurable).
. "$(dirname "$0")/lib.sh"

need firefox-esr
find_proxy
start_sway

profile=$T/profile
mkdir -p "$profile"
cat >"$T/page.html" <<'HTML'
<!DOCTYPE html>
<html><head><title>vmapp page</title></head>
<body style="margin:0; background:#ff0000"><h1>vmapp</h1></body></html>
HTML
# A quiet profile: no first-run pages, no network, no updates.
cat >"$profile/user.js" <<'PREFS'
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("startup.homepage_welcome_url", "");
user_pref("browser.aboutwelcome.enabled", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("app.update.enabled", false);
user_pref("network.proxy.type", 0);
user_pref("browser.tabs.warnOnClose", false);
PREFS

spawn firefox "$PROXY" --local --label work -- env HOME="$T" MOZ_ENABLE_WAYLAND=1 \
	firefox-esr --no-remote --new-instance --profile "$profile" "file://$T/page.html"

# Firefox takes a few seconds to start and draw; give it more than the rest.
WAIT=$((WAIT * 4))
win=$(wait_window '.app_id == "vmapp.work.firefox-esr" and (.name | contains("vmapp page"))') ||
	fail "no window with app_id vmapp.work.firefox-esr and the page's title; windows: $(windows | tr '\n' ' ')"
title=$(jq -r .name <<<"$win")
[[ $title == "[work] "* ]] || fail "title '$title' lacks the label"
log "window: $title"

red=0
deadline=$((SECONDS + WAIT))
while ((SECONDS < deadline)); do
	if screenshot "$T/shots/firefox.ppm"; then
		red=$(colour_fraction "$T/shots/firefox.ppm" ff0000)
		gt "$red" 0.3 && break
	fi
	sleep 0.5
done
gt "$red" 0.3 || fail "the page was not drawn: only $red of the screen is its red"
alive "${PIDS[firefox]}" || fail "the proxy (or firefox) died"
pass "firefox drew the page through the proxy ($red of the screen red), titled '$title'"
