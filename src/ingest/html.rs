//! A small tolerant HTML scanner: visible text with the offset map back to the source.
//!
//! It is a single forward pass with no recursion and no tree, so broken or deeply nested markup
//! costs nothing special. Tags, comments, doctype and processing instructions are dropped; the
//! content of `script`, `style` and the like is dropped; navigation-like elements (`nav`,
//! `footer`, `aside`, `form`, …) are skipped; entities are decoded (named ones from
//! `data/html_entities.tsv`, plus numeric ones); runs of ASCII whitespace collapse to one space;
//! block elements become paragraph breaks ("\n\n"), `br` and table cells line breaks ("\n").

use std::collections::HashMap;
use std::sync::OnceLock;

use super::CleanBuilder;
use crate::document::CleanText;

/// What the markup says besides its visible text.
#[derive(Clone, Debug, Default)]
pub struct HtmlMeta {
    /// Text of `<title>`.
    pub title: Option<String>,
    /// `<meta property="og:title">`.
    pub og_title: Option<String>,
    /// Text of the first `<h1>`.
    pub h1: Option<String>,
    /// Publication time from `<meta property="article:published_time">` and the like, or the
    /// first `<time datetime>`; as written in the page.
    pub published: Option<String>,
}

impl HtmlMeta {
    /// Candidates for the article's title, best first: og:title, the first `<h1>`, `<title>`.
    /// The first one that is a line of the visible text becomes the title block.
    pub fn title_hints(&self) -> Vec<String> {
        [&self.og_title, &self.h1, &self.title]
            .into_iter()
            .flatten()
            .filter(|t| !t.trim().is_empty())
            .cloned()
            .collect()
    }
}

pub struct Scanned {
    /// All visible text.
    pub clean: CleanText,
    pub meta: HtmlMeta,
}

/// Elements whose content is not text at all.
const RAW_TEXT: &[&str] = &[
    "script",
    "style",
    "textarea",
    "xmp",
    "plaintext",
    "noembed",
    "noframes",
];
/// Elements whose content is site furniture, not article text.
const SKIP: &[&str] = &[
    "nav", "footer", "aside", "form", "select", "svg", "math", "noscript", "template", "iframe",
    "button", "object", "canvas", "video", "audio",
];
/// Elements that never have content.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "keygen",
];
/// Elements that start a new paragraph.
const BLOCK: &[&str] = &[
    "address",
    "article",
    "blockquote",
    "body",
    "caption",
    "center",
    "dd",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hgroup",
    "hr",
    "html",
    "legend",
    "li",
    "main",
    "menu",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "tfoot",
    "thead",
    "tr",
    "ul",
    "option",
    "title",
];
/// Elements that start a new line.
const LINE: &[&str] = &["br", "td", "th"];

fn entities() -> &'static HashMap<String, String> {
    static E: OnceLock<HashMap<String, String>> = OnceLock::new();
    E.get_or_init(|| {
        let mut m = HashMap::new();
        for line in super::line_list(include_str!("../../data/html_entities.tsv")) {
            let mut parts = line.split('\t');
            let (Some(name), Some(cps)) = (parts.next(), parts.next()) else {
                continue;
            };
            let s: String = cps
                .split_whitespace()
                .filter_map(|h| u32::from_str_radix(h, 16).ok())
                .filter_map(char::from_u32)
                .collect();
            if !s.is_empty() {
                m.insert(name.to_string(), s);
            }
        }
        m
    })
}

/// Decode the character reference starting at `chars[i] == '&'`: (text, source length).
fn entity(chars: &[char], i: usize) -> Option<(String, usize)> {
    let n = chars.len();
    if chars.get(i + 1) == Some(&'#') {
        let hex = matches!(chars.get(i + 2), Some('x') | Some('X'));
        let start = if hex { i + 3 } else { i + 2 };
        let mut j = start;
        while j < n
            && j - start < 8
            && (if hex {
                chars[j].is_ascii_hexdigit()
            } else {
                chars[j].is_ascii_digit()
            })
        {
            j += 1;
        }
        if j == start {
            return None;
        }
        let digits: String = chars[start..j].iter().collect();
        let v = u32::from_str_radix(&digits, if hex { 16 } else { 10 }).ok()?;
        let end = if chars.get(j) == Some(&';') { j + 1 } else { j };
        let c = match v {
            // Windows-1252 code points that pages write as numeric references.
            0x85 => '…',
            0x91 => '‘',
            0x92 => '’',
            0x93 => '“',
            0x94 => '”',
            0x96 => '–',
            0x97 => '—',
            0 => '\u{fffd}',
            _ => char::from_u32(v)
                .filter(|c| !c.is_control() || c.is_whitespace())
                .unwrap_or('\u{fffd}'),
        };
        return Some((c.to_string(), end - i));
    }
    let mut j = i + 1;
    while j < n && j - i <= 32 && chars[j].is_ascii_alphanumeric() {
        j += 1;
    }
    if j == i + 1 || chars.get(j) != Some(&';') {
        return None;
    }
    let name: String = chars[i + 1..j].iter().collect();
    entities().get(&name).map(|s| (s.clone(), j + 1 - i))
}

/// Decode entities and collapse whitespace in an attribute value or title text.
pub fn decode_text(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '&' {
            if let Some((t, len)) = entity(&chars, i) {
                out.push_str(&t);
                i += len;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

struct Scanner<'a> {
    chars: &'a [char],
    b: CleanBuilder,
    pending_space: Option<(usize, usize)>,
    meta: HtmlMeta,
    time_published: Option<String>,
    h1_start: Option<usize>,
}

impl Scanner<'_> {
    fn space(&mut self, i: usize) {
        self.pending_space = match self.pending_space {
            Some((s, l)) => Some((s, l + (i + 1 - (s + l)).max(1))),
            None => Some((i, 1)),
        };
    }

    fn flush_space(&mut self) {
        if let Some((s, l)) = self.pending_space.take() {
            if self.b.len > 0 && !self.b.text.ends_with('\n') {
                if l == 1 && self.chars[s] == ' ' {
                    self.b.push_same(s, ' ');
                } else {
                    self.b.push_mapped(s, l, " ");
                }
            }
        }
    }

    fn text(&mut self, i: usize, c: char) {
        self.flush_space();
        self.b.push_same(i, c);
    }

    fn mapped(&mut self, i: usize, len: usize, s: &str) {
        self.flush_space();
        self.b.push_mapped(i, len, s);
    }

    /// Make sure the text ends with `k` newlines (1: line break, 2: paragraph break).
    fn brk(&mut self, src: usize, src_len: usize, k: usize) {
        self.pending_space = None;
        if self.b.len == 0 {
            return;
        }
        // Drop a space right before the break by not having emitted it (pending), and count
        // the newlines already there.
        let have = self
            .b
            .text
            .chars()
            .rev()
            .take(2)
            .take_while(|&c| c == '\n')
            .count();
        if have < k {
            let add = "\n".repeat(k - have);
            self.b.push_mapped(src, src_len, &add);
        }
    }
}

/// Scan `source` (HTML) into visible text and metadata.
pub fn scan(source: &str) -> Scanned {
    let chars: Vec<char> = source.chars().collect();
    let (s, unclosed_skip) = scan_chars(&chars, true);
    if unclosed_skip {
        // A skipped element (nav, form…) never closed: it would hide the rest of the page.
        return scan_chars(&chars, false).0;
    }
    s
}

fn starts_with_ci(chars: &[char], i: usize, pat: &str) -> bool {
    let mut k = i;
    for p in pat.chars() {
        match chars.get(k) {
            Some(c) if c.to_ascii_lowercase() == p => k += 1,
            _ => return false,
        }
    }
    true
}

fn find_ci(chars: &[char], from: usize, pat: &str) -> Option<usize> {
    let first = pat.chars().next()?;
    (from..chars.len())
        .find(|&k| chars[k].to_ascii_lowercase() == first && starts_with_ci(chars, k, pat))
}

/// Parse attributes in `chars[from..to]`.
fn attributes(chars: &[char], from: usize, to: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut i = from;
    while i < to {
        while i < to && (chars[i].is_whitespace() || chars[i] == '/') {
            i += 1;
        }
        let ns = i;
        while i < to && !chars[i].is_whitespace() && chars[i] != '=' && chars[i] != '/' {
            i += 1;
        }
        if i == ns {
            i += 1;
            continue;
        }
        let name: String = chars[ns..i].iter().collect::<String>().to_ascii_lowercase();
        while i < to && chars[i].is_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < to && chars[i] == '=' {
            i += 1;
            while i < to && chars[i].is_whitespace() {
                i += 1;
            }
            if i < to && (chars[i] == '"' || chars[i] == '\'') {
                let q = chars[i];
                let vs = i + 1;
                i = vs;
                while i < to && chars[i] != q {
                    i += 1;
                }
                value = chars[vs..i].iter().collect();
                i += 1;
            } else {
                let vs = i;
                while i < to && !chars[i].is_whitespace() {
                    i += 1;
                }
                value = chars[vs..i].iter().collect();
            }
        }
        out.push((name, decode_text(&value)));
    }
    out
}

fn scan_chars(chars: &[char], skip_furniture: bool) -> (Scanned, bool) {
    let n = chars.len();
    // next_gt[i]: first '>' at or after i (n when none).
    let mut next_gt = vec![n as u32; n + 1];
    for i in (0..n).rev() {
        next_gt[i] = if chars[i] == '>' {
            i as u32
        } else {
            next_gt[i + 1]
        };
    }
    let mut sc = Scanner {
        chars,
        b: CleanBuilder::default(),
        pending_space: None,
        meta: HtmlMeta::default(),
        time_published: None,
        h1_start: None,
    };
    let mut skip: Vec<String> = Vec::new();
    let mut i = 0;
    while i < n {
        let c = chars[i];
        if c == '<' {
            if starts_with_ci(chars, i, "<!--") {
                i = find_ci(chars, i + 4, "-->").map(|k| k + 3).unwrap_or(n);
                continue;
            }
            let next = chars.get(i + 1).copied().unwrap_or(' ');
            let is_tag = next == '!'
                || next == '?'
                || next.is_ascii_alphabetic()
                || (next == '/' && chars.get(i + 2).is_some_and(|c| c.is_ascii_alphabetic()));
            let gt = next_gt[i] as usize;
            if is_tag && gt < n {
                // Tag end: the first '>' outside quotes within a window, else the first '>'.
                let mut end = gt;
                if next != '!' && next != '?' {
                    let mut q: Option<char> = None;
                    let mut k = i + 1;
                    while k < n && k < i + 512 {
                        match (q, chars[k]) {
                            (None, '"') | (None, '\'') => q = Some(chars[k]),
                            (Some(x), y) if x == y => q = None,
                            (None, '>') => {
                                end = k;
                                break;
                            }
                            _ => {}
                        }
                        k += 1;
                    }
                }
                let tag_len = end + 1 - i;
                if next == '!' || next == '?' {
                    i = end + 1;
                    continue;
                }
                let closing = next == '/';
                let ns = if closing { i + 2 } else { i + 1 };
                let mut ne = ns;
                while ne < end
                    && (chars[ne].is_ascii_alphanumeric() || chars[ne] == '-' || chars[ne] == ':')
                {
                    ne += 1;
                }
                let name: String = chars[ns..ne]
                    .iter()
                    .collect::<String>()
                    .to_ascii_lowercase();
                let self_closing = end > i && chars[end - 1] == '/';
                i = end + 1;
                let nm = name.as_str();

                if !closing && RAW_TEXT.contains(&nm) {
                    let close = format!("</{nm}");
                    i = match find_ci(chars, i, &close) {
                        Some(k) => (next_gt[k] as usize + 1).min(n),
                        None => n,
                    };
                    continue;
                }
                if !closing && nm == "title" {
                    let close_at = find_ci(chars, i, "</title").unwrap_or(n);
                    if skip.is_empty() {
                        let raw: String = chars[i..close_at].iter().collect();
                        let t = decode_text(&raw);
                        if sc.meta.title.is_none() && !t.is_empty() {
                            sc.meta.title = Some(t);
                        }
                        sc.brk(i - tag_len, tag_len, 2);
                        let mut k = i;
                        while k < close_at {
                            let ch = chars[k];
                            if ch == '&' {
                                if let Some((t, len)) = entity(chars, k) {
                                    sc.mapped(k, len, &t);
                                    k += len;
                                    continue;
                                }
                            }
                            if ch.is_ascii_whitespace() {
                                sc.space(k);
                            } else {
                                sc.text(k, ch);
                            }
                            k += 1;
                        }
                        let cl = if close_at < n {
                            (next_gt[close_at] as usize + 1).min(n) - close_at
                        } else {
                            0
                        };
                        sc.brk(close_at, cl, 2);
                    }
                    i = if close_at < n {
                        (next_gt[close_at] as usize + 1).min(n)
                    } else {
                        n
                    };
                    continue;
                }
                if skip_furniture && SKIP.contains(&nm) {
                    if closing {
                        if let Some(pos) = skip.iter().rposition(|s| s == nm) {
                            skip.truncate(pos);
                        }
                    } else if !self_closing {
                        skip.push(name.clone());
                    }
                    continue;
                }
                if !skip.is_empty() {
                    continue;
                }
                if !closing && nm == "meta" {
                    let attrs = attributes(chars, ne, end);
                    let get = |k: &str| attrs.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
                    let key = get("property")
                        .or(get("name"))
                        .or(get("itemprop"))
                        .unwrap_or("")
                        .to_ascii_lowercase();
                    let content = get("content").or(get("datetime")).filter(|v| !v.is_empty());
                    if let Some(v) = content {
                        if key == "og:title" && sc.meta.og_title.is_none() {
                            sc.meta.og_title = Some(v.to_string());
                        }
                        let date_keys = [
                            "article:published_time",
                            "datepublished",
                            "pubdate",
                            "publishdate",
                            "date",
                            "dc.date.issued",
                            "dc.date",
                            "parsely-pub-date",
                            "sailthru.date",
                            "og:published_time",
                        ];
                        if date_keys.contains(&key.as_str()) && sc.meta.published.is_none() {
                            sc.meta.published = Some(v.to_string());
                        }
                    }
                    continue;
                }
                if !closing && nm == "time" && sc.time_published.is_none() {
                    let attrs = attributes(chars, ne, end);
                    if let Some((_, v)) = attrs.iter().find(|(a, _)| a == "datetime") {
                        sc.time_published = Some(v.clone());
                    }
                }
                if LINE.contains(&nm) {
                    sc.brk(i - tag_len, tag_len, 1);
                } else if BLOCK.contains(&nm) {
                    sc.brk(i - tag_len, tag_len, 2);
                }
                if nm == "h1" && sc.meta.h1.is_none() {
                    if !closing {
                        sc.h1_start = Some(sc.b.text.len());
                    } else if let Some(s) = sc.h1_start.take() {
                        let t = decode_text(&sc.b.text[s.min(sc.b.text.len())..]);
                        if !t.is_empty() {
                            sc.meta.h1 = Some(t);
                        }
                    }
                }
                let _ = VOID;
                continue;
            }
            // A lone '<': text.
        }
        if !skip.is_empty() {
            i += 1;
            continue;
        }
        if c == '&' {
            if let Some((t, len)) = entity(chars, i) {
                sc.mapped(i, len, &t);
                i += len;
                continue;
            }
        }
        if c.is_ascii_whitespace() {
            sc.space(i);
        } else {
            sc.text(i, c);
        }
        i += 1;
    }
    let mut meta = sc.meta;
    if meta.published.is_none() {
        meta.published = sc.time_published;
    }
    let unclosed = !skip.is_empty();
    (
        Scanned {
            clean: sc.b.finish(),
            meta,
        },
        unclosed,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(html: &str) -> String {
        scan(html).clean.text
    }

    fn check_map(html: &str) {
        let s = scan(html);
        let n = html.chars().count();
        let mut next = 0;
        for r in &s.clean.runs {
            assert_eq!(r.clean, next);
            assert!(r.source + r.source_len <= n);
            next += r.clean_len;
        }
        assert_eq!(next, s.clean.text.chars().count());
    }

    #[test]
    fn tags_entities_blocks() {
        assert_eq!(text("<p>a &amp; b&nbsp;c &lt;d&gt; &#8211; &#x201C;q&#x201d; &bogus; &amp</p><p>next</p>").trim_end(), "a & b\u{a0}c <d> – “q” &bogus; &amp\n\nnext");
        assert_eq!(text("one<br>two<br/>three"), "one\ntwo\nthree");
        assert_eq!(text("x  <b>bold</b>\n\t y"), "x bold y");
        assert_eq!(text("a<!-- <p>hidden</p> -->b"), "ab");
        assert_eq!(text("<ul><li>One</li><li>Two</li></ul>"), "One\n\nTwo\n\n");
        check_map("<p>a &amp; b&nbsp;c &lt;d&gt; &#8211; &#x201C;q&#x201d;</p>");
    }

    #[test]
    fn script_style_and_furniture_dropped() {
        let t = text("<style>p{}</style><script>if (a<b) document.write('<p>x</p>')</script><nav><a>Home</a></nav><p>Body.</p><footer>(c)</footer>");
        assert_eq!(t.trim(), "Body.");
        // An unclosed nav does not hide the page.
        assert!(text("<nav><a>Home</a><p>Body text.</p>").contains("Body text."));
    }

    #[test]
    fn broken_and_nested_markup() {
        let deep = "<div>".repeat(100_000) + "deep text" + &"</div>".repeat(100_000);
        assert_eq!(text(&deep).trim(), "deep text");
        check_map(&deep);
        assert_eq!(text("a < b and c<d"), "a < b and c<d");
        assert_eq!(text("<p class=\"x>y\">q</p"), "q</p");
        // Unbalanced quotes: the tag ends at the first '>'.
        assert_eq!(text("<p title='unclosed>text"), "text");
        for s in [
            "<",
            "<!",
            "<!--",
            "&",
            "&#",
            "&#x",
            "&#99999999999;",
            "</",
            "<a href=\"",
            "<title>t",
            "<script>",
            "<p>\u{0}</p>",
        ] {
            check_map(s);
        }
        let many = "<a \"".repeat(20_000);
        check_map(&many);
    }

    #[test]
    fn meta_title_h1_and_dates() {
        let s = scan("<html><head><title>Site &amp; News | Talks</title><meta property=\"og:title\" content=\"Talks &quot;begin&quot;\"><meta name=\"pubdate\" content=\"2020-01-02\"></head><body><h1>The <b>Talks</b></h1><time datetime=\"2019-01-01\">x</time></body></html>");
        assert_eq!(s.meta.title.as_deref(), Some("Site & News | Talks"));
        assert_eq!(s.meta.og_title.as_deref(), Some("Talks \"begin\""));
        assert_eq!(s.meta.h1.as_deref(), Some("The Talks"));
        assert_eq!(s.meta.published.as_deref(), Some("2020-01-02"));
        assert_eq!(
            s.meta.title_hints(),
            ["Talks \"begin\"", "The Talks", "Site & News | Talks"]
        );
        let s = scan("<p>x</p><time datetime='2019-01-01T10:00'>y</time>");
        assert_eq!(s.meta.published.as_deref(), Some("2019-01-01T10:00"));
    }
}
