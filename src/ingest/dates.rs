//! Publication dates: "24 August 2022, 14:41", "3 Apr 2024", "14 июня 2019", "June 2, 2019",
//! "May 27 – June 2, 2019" (a range: its start), "2022-08-24", "24.08.2022". Month and weekday
//! names come from `data/dates.toml`. A date without a year is not read (no guessing).

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;
use serde::Deserialize;

#[derive(Deserialize)]
struct DatesFile {
    weekdays: Vec<String>,
    date_line_words: Vec<String>,
    months: HashMap<String, u32>,
}

struct Lex {
    months: HashMap<String, u32>,
    weekdays: Vec<String>,
    line_words: Vec<String>,
    /// (regex, kind) in order of preference at the same position.
    patterns: Vec<(Regex, Kind)>,
    time: Regex,
    iso: Regex,
}

#[derive(Clone, Copy)]
enum Kind {
    /// month day – [month] day, year
    RangeMd,
    /// day [month] – day month year
    RangeDm,
    Dmy,
    Mdy,
    Iso,
    Dotted,
}

fn lex() -> &'static Lex {
    static L: OnceLock<Lex> = OnceLock::new();
    L.get_or_init(|| {
        let f: DatesFile = toml::from_str(include_str!("../../data/dates.toml")).expect("data/dates.toml");
        let mut names: Vec<&String> = f.months.keys().collect();
        names.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
        let mon = names.iter().map(|n| regex::escape(n)).collect::<Vec<_>>().join("|");
        let ord = r"(?:st|nd|rd|th)?";
        let dash = r"\s*[–—-]\s*";
        let p = |s: String| Regex::new(&format!("(?i){s}")).expect("date pattern");
        let patterns = vec![
            (p(format!(r"\b({mon})\.?\s+([0-9]{{1,2}}){ord}{dash}(?:(?:{mon})\.?\s+)?[0-9]{{1,2}}{ord},?\s+([0-9]{{4}})\b")), Kind::RangeMd),
            (p(format!(r"\b([0-9]{{1,2}}){ord}\s*(?:({mon})\.?)?{dash}[0-9]{{1,2}}{ord}\s+({mon})\.?,?\s+([0-9]{{4}})\b")), Kind::RangeDm),
            (p(format!(r"\b([0-9]{{1,2}}){ord}\s+(?:of\s+)?({mon})\.?,?\s+([0-9]{{4}})\b")), Kind::Dmy),
            (p(format!(r"\b({mon})\.?\s+([0-9]{{1,2}}){ord},?\s+([0-9]{{4}})\b")), Kind::Mdy),
            (p(r"\b([0-9]{4})-([0-9]{2})-([0-9]{2})".into()), Kind::Iso),
            (p(r"\b([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})\b".into()), Kind::Dotted),
        ];
        Lex {
            months: f.months,
            weekdays: f.weekdays,
            line_words: f.date_line_words,
            patterns,
            time: Regex::new(r"\b[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?:\s*[ap]\.?m\.?)?").unwrap(),
            iso: Regex::new(r"^\s*([0-9]{4})-([0-9]{2})-([0-9]{2})").unwrap(),
        }
    })
}

fn valid(y: u32, m: u32, d: u32) -> Option<String> {
    if !(1900..=2100).contains(&y) || !(1..=12).contains(&m) || d == 0 {
        return None;
    }
    let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][m as usize - 1];
    (d <= days).then(|| format!("{y:04}-{m:02}-{d:02}"))
}

/// The first date in `text`: (YYYY-MM-DD, byte range of the match).
pub fn find_date(text: &str) -> Option<(String, std::ops::Range<usize>)> {
    let l = lex();
    let month = |s: &str| l.months.get(&s.to_lowercase()).copied();
    let num = |s: &str| s.parse::<u32>().ok();
    let mut best: Option<(String, std::ops::Range<usize>)> = None;
    for (re, kind) in &l.patterns {
        for c in re.captures_iter(text) {
            let m = c.get(0).unwrap();
            if best.as_ref().is_some_and(|(_, r)| r.start <= m.start()) {
                break;
            }
            let g = |i: usize| c.get(i).map(|x| x.as_str()).unwrap_or("");
            let read = || match kind {
                Kind::RangeMd => valid(num(g(3))?, month(g(1))?, num(g(2))?),
                Kind::RangeDm => {
                    let mo = if g(2).is_empty() {
                        month(g(3))?
                    } else {
                        month(g(2))?
                    };
                    valid(num(g(4))?, mo, num(g(1))?)
                }
                Kind::Dmy => valid(num(g(3))?, month(g(2))?, num(g(1))?),
                Kind::Mdy => valid(num(g(3))?, month(g(1))?, num(g(2))?),
                Kind::Iso => valid(num(g(1))?, num(g(2))?, num(g(3))?),
                Kind::Dotted => valid(num(g(3))?, num(g(2))?, num(g(1))?),
            };
            if let Some(d) = read() {
                best = Some((d, m.range()));
                break;
            }
        }
    }
    best
}

/// A publication date as given by a feed or a page ("2022-08-24T14:41:00+03:00", "3 Apr 2024")
/// as YYYY-MM-DD.
pub fn normalize_published(s: &str) -> Option<String> {
    if let Some(c) = lex().iso.captures(s) {
        let n = |i: usize| c[i].parse::<u32>().ok();
        return valid(n(1)?, n(2)?, n(3)?);
    }
    find_date(s).map(|(d, _)| d)
}

/// When `line` is a date line (a date, perhaps with a weekday, a time and a word like
/// "Updated"), its date and whether it names a weekday (site "today" widgets do).
pub fn date_line(line: &str) -> Option<(String, bool)> {
    if line.split_whitespace().count() > 12 {
        return None;
    }
    let (date, range) = find_date(line)?;
    let l = lex();
    let rest = format!("{} {}", &line[..range.start], &line[range.end..]);
    let rest = l.time.replace_all(&rest, " ");
    let mut weekday = false;
    let mut words = 0;
    for w in rest
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let lw = w.to_lowercase();
        if l.weekdays.contains(&lw) {
            weekday = true;
        } else if !l.line_words.contains(&lw) {
            words += 1;
        }
    }
    (words <= 1).then_some((date, weekday))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<String> {
        find_date(s).map(|x| x.0)
    }

    #[test]
    fn formats() {
        assert_eq!(d("24 August 2022, 14:41").as_deref(), Some("2022-08-24"));
        assert_eq!(d("3 Apr 2024").as_deref(), Some("2024-04-03"));
        assert_eq!(d("14 июня 2019").as_deref(), Some("2019-06-14"));
        assert_eq!(d("May 27 – June 2, 2019").as_deref(), Some("2019-05-27"));
        assert_eq!(d("27 May – 2 June 2019").as_deref(), Some("2019-05-27"));
        assert_eq!(d("27–31 May 2019").as_deref(), Some("2019-05-27"));
        assert_eq!(d("on June 2nd, 2019 in").as_deref(), Some("2019-06-02"));
        assert_eq!(d("Sept. 3, 2021").as_deref(), Some("2021-09-03"));
        assert_eq!(d("24.08.2022").as_deref(), Some("2022-08-24"));
        assert_eq!(d("2022-08-24T14:41").as_deref(), Some("2022-08-24"));
        assert_eq!(d("April 15 – April 21"), None);
        assert_eq!(d("31 February 2020"), None);
        assert_eq!(d("On May 28th-31st, the chief"), None);
        assert_eq!(
            normalize_published("2022-08-24T14:41:00+03:00").as_deref(),
            Some("2022-08-24")
        );
        assert_eq!(
            normalize_published("Wed, 24 Aug 2022 10:00:00 GMT").as_deref(),
            Some("2022-08-24")
        );
        assert_eq!(normalize_published("soon"), None);
    }

    #[test]
    fn date_lines() {
        assert_eq!(
            date_line("24 August 2022, 14:41"),
            Some(("2022-08-24".into(), false))
        );
        assert_eq!(
            date_line("Flag Sunday, 24 September 2023"),
            Some(("2023-09-24".into(), true))
        );
        assert_eq!(
            date_line("14 июня 2019"),
            Some(("2019-06-14".into(), false))
        );
        assert_eq!(
            date_line("The summit opened on 24 August 2022 in Minsk."),
            None
        );
    }
}
