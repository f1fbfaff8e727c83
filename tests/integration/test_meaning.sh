#!/usr/bin/env bash
# test_meaning.sh - one source for what a listing means and what to check (issue 19, item 5):
# for every reason (trap hits only, reports only, both) and class of trap hit (spam, bounce,
# auto-reply, virus notice), an address listed on such evidence, and its words read from
# every place a person or a program reads them: `check` and `explain` text, `check --json`,
# the JSON API, the lookup page, the listing page and the TXT record in DNS. All say the same;
# and trap hits that were spam never get the advice for backscatter.
source "$(dirname "$0")/lib.sh"

DATA=$TL_TMP/data
tl_mkdata "$DATA"
TL_HTTP=1 tl_start --data "$DATA"
tl_wait_http || tl_die "the web pages answer" "$(tail -n 20 "$TL_LAST_LOG")"
cli() { "$TRAPLINE" "$@" --data "$DATA"; }
ev() { cli evidence add --ip "$1" --kind "$2" ${3:+--class "$3"} >/dev/null || tl_fail "evidence add $*"; }

# reason class address: the combinations, one address each.
COMBOS="traps spam 193.0.2.101
traps bounce 193.0.2.102
traps autoreply 193.0.2.103
traps virus 193.0.2.104
reports - 193.0.2.105
both spam 193.0.2.106
both bounce 193.0.2.107
both autoreply 193.0.2.108
both virus 193.0.2.109"
while read -r reason cls ip; do
	case $reason in
	traps) ev "$ip" trap "$cls"; ev "$ip" trap "$cls" ;;
	reports) ev "$ip" report; ev "$ip" report ;;
	both) ev "$ip" trap "$cls"; ev "$ip" report ;;
	esac
done <<<"$COMBOS"

while read -r reason cls ip; do
	check_ip_a "$reason/$cls: $ip is listed in DNS" "$ip" 127.0.0.2 30
	cli check "$ip" >"$TL_TMP/check.txt"
	cli explain "$ip" >"$TL_TMP/explain.txt"
	cli check "$ip" --json >"$TL_TMP/check.json"
	tl_http "/api/v1/lookup/$ip" >"$TL_TMP/api.json"
	tl_http "/lookup?ip=$ip" >"$TL_TMP/page.html"
	tl_http /about/listing >"$TL_TMP/listing.html"
	dig @127.0.0.1 -p "$PORT" +short "$(rev4 "$ip").$TL_ZONE" TXT >"$TL_TMP/txt"
	out=$(python3 - "$TL_TMP" "$reason" "$cls" <<'PY'
import html, html.parser, json, re, sys
d, reason, cls = sys.argv[1:]
ref = json.load(open(d + "/check.json"))
m = ref["meaning"]
bad = []
def same(what, got, want):
    if got != want:
        bad.append("%s: %r, the JSON says %r" % (what, got, want))
if ref["reason"] != reason:
    bad.append("reason %r, wanted %r" % (ref["reason"], reason))
if reason != "reports" and ref["trap_classes"][cls] == 0:
    bad.append("no trap hit of class %s counted" % cls)
# The API is check --json.
same("the API's meaning", json.load(open(d + "/api.json"))["meaning"], m)
# check: "meaning: WHAT: USUALLY", then one "check: ..." line per piece of advice.
text = open(d + "/check.txt").read().splitlines()
same("check's meaning line", [l for l in text if l.startswith("meaning: ")], ["meaning: %s: %s" % (m["what"], m["usually"])])
same("check's advice", [l[len("check: "):] for l in text if l.startswith("check: ")], m["advice"])
# explain: the reason, the meaning, the advice.
ex = open(d + "/explain.txt").read()
same("explain's reason", re.findall(r"^Reason: (.*)$", ex, re.M), [m["what"]])
same("explain's meaning", re.findall(r"^What it means: (.*)$", ex, re.M), [m["usually"]])
tail = ex.split("What to check:\n", 1)[1] if "What to check:\n" in ex else ""
same("explain's advice", re.findall(r"^  - (.*)$", tail, re.M), m["advice"])
# The pages: the elements that carry the words, as a browser reads them.
class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.found = [], {}
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        key = None
        if a.get("id") == "meaning":
            key = "meaning"; self.found["what"] = a.get("data-what")
        elif tag == "li" and self.stack and self.stack[-1][1] == "advice":
            key = "advice-item"
        elif a.get("id") == "advice" or (tag == "ul" and a.get("class") == "advice"):
            key = "advice"
        elif tag == "strong" and self.stack and self.stack[-1][1] == "meaning":
            key = "usually"
        elif tag == "div" and a.get("class") == "reason-block":
            key = "block"; self.found.setdefault("blocks", []).append({"reason": a.get("data-reason"), "class": a.get("data-class"), "advice": []})
        elif tag in ("dt", "p") and self.stack and self.stack[-1][1] in ("block", "dd"):
            key = {"dt": "block-what", "p": "block-usually"}[tag]
        elif tag == "dd" and self.stack and self.stack[-1][1] == "block":
            key = "dd"
        if tag not in ("br", "input", "meta", "link"):
            self.stack.append((tag, key, []))
    def handle_data(self, data):
        for _, k, buf in self.stack:
            buf.append(data)
    def handle_endtag(self, tag):
        while self.stack:
            t, k, buf = self.stack.pop()
            text = " ".join("".join(buf).split())
            if k == "usually": self.found["usually"] = text
            elif k == "advice-item":
                if any(s[1] == "dd" for s in self.stack): self.found["blocks"][-1]["advice"].append(text)
                else: self.found.setdefault("advice", []).append(text)
            elif k == "block-what": self.found["blocks"][-1]["what"] = text
            elif k == "block-usually": self.found["blocks"][-1]["usually"] = text
            if t == tag: break
page = Page(); page.feed(open(d + "/page.html").read())
same("the lookup page's meaning", page.found.get("what"), m["what"])
same("the lookup page's words", page.found.get("usually"), m["usually"])
same("the lookup page's advice", page.found.get("advice"), m["advice"])
# The listing page has the same block for this reason and class.
lst = Page(); lst.feed(open(d + "/listing.html").read())
want_cls = "" if reason == "reports" else cls
blocks = [b for b in lst.found.get("blocks", []) if b["reason"] == reason and b["class"] == want_cls]
same("the listing page's block", [(b.get("what"), b.get("usually"), b["advice"]) for b in blocks],
     [(m["what"], m["usually"] + ".", m["advice"])])
# The TXT record carries the short form.
txt = open(d + "/txt").read().strip()
if "(%s)" % m["short"] not in txt:
    bad.append("TXT %r lacks %r" % (txt, m["short"]))
# What trap hits that were spam never get: the advice for bounces; and bounces always do.
backscatter = any("bouncing" in a for a in page.found.get("advice", []))
if backscatter != (cls == "bounce"):
    bad.append("advice about bounces: %s for %s/%s" % (backscatter, reason, cls))
print("same" if not bad else "\n".join(bad))
PY
)
	check_eq "$reason/$cls: check, explain, JSON, API, lookup and listing pages, TXT say the same" same "$out"
done <<<"$COMBOS"

tl_stop
tl_finish
