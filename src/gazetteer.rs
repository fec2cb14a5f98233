//! The actor gazetteer (data/gazetteer.toml): countries, organizations and office holders, and
//! the phrase matcher that finds them in text. Keys are normalised word sequences, so "U.S." and
//! "U.S" or "Co-operation" and "Co operation" meet; acronyms must match in case ("US", not "us").

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::document::EntityLabel;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GazetteerFile {
    version: String,
    #[serde(default)]
    country: Vec<Country>,
    #[serde(default)]
    organization: Vec<Organization>,
    #[serde(default)]
    person: Vec<Person>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Country {
    id: String,
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    adjectives: Vec<String>,
    #[serde(default)]
    capitals: Vec<String>,
    #[serde(default)]
    organizations: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Organization {
    id: String,
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    kind: OrganizationKind,
    /// The country id of a state's own news agency ("KCNA": North Korea): what it reports is the
    /// state's word, so it stands for the state as a holder.
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    leader_titles: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganizationKind {
    Intergovernmental,
    Alliance,
    /// A wire service ("Reuters", "TASS").
    NewsAgency,
    /// A newspaper, magazine or broadcaster ("Le Monde").
    NewsOutlet,
    Ngo,
    ArmedGroup,
    Company,
    Other,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Person {
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    affiliation: Option<String>,
    #[serde(default)]
    office: Vec<Office>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Office {
    title: String,
    of: String,
    #[serde(default)]
    titles: Vec<String>,
    from: String,
    #[serde(default)]
    to: String,
}

/// What a gazetteer phrase names.
#[derive(Clone, Debug, PartialEq)]
pub struct Actor {
    pub canonical: String,
    pub id: Option<String>,
    /// CoNLL's types: a country is LOC, its adjective MISC.
    pub label: EntityLabel,
    /// Canonical name of the country or organization a person acts for.
    pub affiliation: Option<String>,
    /// A capital standing for its government ("Minsk" → Belarus), or an adjective for its country.
    pub stands_for: Option<String>,
}

/// One office holder, for titles that resolve by date.
#[derive(Clone, Debug)]
struct Tenure {
    person: usize,
    from: String,
    to: String,
}

enum Entry {
    Actor(usize),
    /// A title ("Belarusian Defense Minister") naming whoever held it on the document's date.
    Title(Vec<Tenure>),
}

pub struct Gazetteer {
    pub version: String,
    actors: Vec<Actor>,
    /// Person actor index by gazetteer person index.
    people: Vec<usize>,
    phrases: HashMap<String, (Entry, bool)>, // entry, acronym (case must match)
    longest: usize,
    /// Ids of the news agencies and outlets that speak for no state.
    media: HashSet<String>,
}

/// A gazetteer phrase found in a text, in code points of that text.
#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    pub start: usize,
    pub end: usize,
    pub actor: Actor,
    /// The match is an office title, not a name.
    pub by_title: bool,
}

/// Word tokens of a text: runs of letters and digits, with code-point ranges.
fn words(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(usize, String)> = None;
    let mut n = 0;
    for (i, c) in text.chars().enumerate() {
        n = i + 1;
        if c.is_alphanumeric() {
            cur.get_or_insert_with(|| (i, String::new())).1.extend(c.to_lowercase());
        } else if let Some((s, w)) = cur.take() {
            out.push((s, i, w));
        }
    }
    if let Some((s, w)) = cur.take() {
        out.push((s, n, w));
    }
    out
}

fn key(phrase: &str) -> String {
    words(phrase).into_iter().map(|w| w.2).collect::<Vec<_>>().join(" ")
}

fn is_acronym(phrase: &str) -> bool {
    let letters: Vec<char> = phrase.chars().filter(|c| c.is_alphabetic()).collect();
    letters.len() <= 6 && letters.iter().filter(|c| c.is_uppercase()).count() >= 2 && letters.iter().all(|c| c.is_uppercase())
}

impl Gazetteer {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read gazetteer {}", path.display()))?;
        let file: GazetteerFile =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("invalid gazetteer {}: {e}", path.display()))?;
        Self::build(file).with_context(|| format!("invalid gazetteer {}", path.display()))
    }

    fn build(file: GazetteerFile) -> Result<Self> {
        let mut g = Gazetteer { version: file.version, actors: Vec::new(), people: Vec::new(), phrases: HashMap::new(), longest: 1, media: HashSet::new() };
        let mut names: HashMap<String, String> = HashMap::new(); // id → canonical
        let mut country_forms: HashMap<String, (Vec<String>, Vec<String>)> = HashMap::new(); // id → (names, adjectives)
        for c in &file.country {
            names.insert(c.id.clone(), c.name.clone());
            let mut forms = vec![c.name.clone()];
            forms.extend(c.aliases.iter().cloned());
            country_forms.insert(c.id.clone(), (forms, c.adjectives.clone()));
        }
        for o in &file.organization {
            if names.insert(o.id.clone(), o.name.clone()).is_some() {
                bail!("id {} is used twice", o.id);
            }
        }
        let lookup = |id: &str, whose: &str| -> Result<String> {
            names.get(id).cloned().with_context(|| format!("{whose} refers to unknown id {id:?}"))
        };
        for c in &file.country {
            let country = g.add_actor(Actor { canonical: c.name.clone(), id: Some(c.id.clone()), label: EntityLabel::Loc, affiliation: None, stands_for: None });
            for p in std::iter::once(&c.name).chain(&c.aliases) {
                g.add_phrase(p, Entry::Actor(country));
            }
            for a in &c.adjectives {
                let adj = g.add_actor(Actor { canonical: a.clone(), id: None, label: EntityLabel::Misc, affiliation: None, stands_for: Some(c.name.clone()) });
                g.add_phrase(a, Entry::Actor(adj));
            }
            for cap in &c.capitals {
                let city = g.add_actor(Actor { canonical: cap.clone(), id: None, label: EntityLabel::Loc, affiliation: None, stands_for: Some(c.name.clone()) });
                g.add_phrase(cap, Entry::Actor(city));
            }
            for o in &c.organizations {
                lookup(o, &format!("country {}", c.id))?;
            }
        }
        for o in &file.organization {
            let state = match o.state.as_deref() {
                Some(id) if !country_forms.contains_key(id) => bail!("organization {}: state {id:?} is no country id", o.id),
                id => id.map(|id| lookup(id, &format!("organization {}", o.id))).transpose()?,
            };
            if matches!(o.kind, OrganizationKind::NewsAgency | OrganizationKind::NewsOutlet) && state.is_none() {
                g.media.insert(o.id.clone());
            }
            let org = g.add_actor(Actor { canonical: o.name.clone(), id: Some(o.id.clone()), label: EntityLabel::Org, affiliation: None, stands_for: state });
            for p in std::iter::once(&o.name).chain(&o.aliases) {
                g.add_phrase(p, Entry::Actor(org));
            }
        }
        let mut titles: HashMap<String, Vec<Tenure>> = HashMap::new();
        for (pi, p) in file.person.iter().enumerate() {
            let affiliation = p.affiliation.as_deref().map(|a| lookup(a, &format!("person {}", p.name))).transpose()?;
            let person = g.add_actor(Actor { canonical: p.name.clone(), id: None, label: EntityLabel::Per, affiliation, stands_for: None });
            g.people.push(person);
            for n in std::iter::once(&p.name).chain(&p.aliases) {
                g.add_phrase(n, Entry::Actor(person));
            }
            for office in &p.office {
                lookup(&office.of, &format!("office {:?} of {}", office.title, p.name))?;
                for d in [&office.from, &office.to] {
                    if !d.is_empty() && chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err() {
                        bail!("office {:?} of {}: bad date {d:?} (expected YYYY-MM-DD)", office.title, p.name);
                    }
                }
                let tenure = Tenure { person: pi, from: office.from.clone(), to: office.to.clone() };
                let mut title_forms: Vec<&String> = std::iter::once(&office.title).chain(&office.titles).collect();
                let (forms, adjectives) = match country_forms.get(&office.of) {
                    Some(f) => f.clone(),
                    None => {
                        // An organization: its name and acronym qualify the title, and the
                        // titles of its head apply too ("CSTO Secretary General").
                        let org = file.organization.iter().find(|o| o.id == office.of).expect("checked above");
                        title_forms.extend(&org.leader_titles);
                        (std::iter::once(org.name.clone()).chain(org.aliases.iter().cloned()).collect(), Vec::new())
                    }
                };
                for t in title_forms {
                    let mut phrases = Vec::new();
                    let k = key(t);
                    let qualified = forms.iter().chain(&adjectives).any(|f| k.contains(&key(f)));
                    if qualified {
                        phrases.push(t.clone());
                    } else {
                        for a in &adjectives {
                            phrases.push(format!("{a} {t}"));
                        }
                        for f in &forms {
                            phrases.extend([format!("{t} of {f}"), format!("{t} of the {f}"), format!("{f} {t}"), format!("{f}'s {t}")]);
                        }
                    }
                    for ph in phrases {
                        titles.entry(key(&ph)).or_default().push(tenure.clone());
                    }
                }
            }
        }
        for (k, tenures) in titles {
            g.longest = g.longest.max(k.split(' ').count());
            // A name always wins over a title with the same words.
            g.phrases.entry(k).or_insert((Entry::Title(tenures), false));
        }
        Ok(g)
    }

    fn add_actor(&mut self, actor: Actor) -> usize {
        self.actors.push(actor);
        self.actors.len() - 1
    }

    fn add_phrase(&mut self, phrase: &str, entry: Entry) {
        let k = key(phrase);
        if k.is_empty() {
            return;
        }
        self.longest = self.longest.max(k.split(' ').count());
        // The first entry for a phrase wins: countries before organizations before people.
        self.phrases.entry(k).or_insert((entry, is_acronym(phrase)));
    }

    /// Whether an id is a news agency or outlet that speaks for no state: a source cited, not
    /// a holder (spec: the body or person it quotes is).
    pub fn is_media(&self, id: &str) -> bool {
        self.media.contains(id)
    }

    /// The state an entry stands for, by its id ("KCNA": North Korea).
    pub fn state_of(&self, id: &str) -> Option<String> {
        self.actors.iter().find(|a| a.id.as_deref() == Some(id)).and_then(|a| a.stands_for.clone())
    }

    /// The actor a whole mention names, e.g. an entity's text.
    pub fn lookup(&self, mention: &str, date: Option<&str>) -> Option<Actor> {
        let m = self.find(mention, date);
        // The final period of an abbreviation is no word character: "U.S." matches as "U.S".
        let chars = mention.strip_suffix('.').unwrap_or(mention).chars().count();
        m.into_iter().find(|m| m.start == 0 && m.end == chars).map(|m| m.actor)
    }

    /// Longest non-overlapping gazetteer phrases in a text. Names must start with a capital
    /// letter in the text (so "turkey" or "chad" don't match); titles resolve by `date`
    /// (YYYY-MM-DD; without one, to the latest holder).
    pub fn find(&self, text: &str, date: Option<&str>) -> Vec<Match> {
        let ws = words(text);
        let chars: Vec<char> = text.chars().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < ws.len() {
            let mut found = None;
            for n in (1..=self.longest.min(ws.len() - i)).rev() {
                let k = ws[i..i + n].iter().map(|w| w.2.as_str()).collect::<Vec<_>>().join(" ");
                let Some((entry, acronym)) = self.phrases.get(&k) else { continue };
                let (start, end) = (ws[i].0, ws[i + n - 1].1);
                let surface: String = chars[start..end].iter().collect();
                if *acronym && !is_acronym(&surface) {
                    continue;
                }
                let hit = match entry {
                    Entry::Actor(a) => {
                        if !chars[start].is_uppercase() && !chars[start].is_numeric() {
                            continue;
                        }
                        Some((self.actors[*a].clone(), false))
                    }
                    Entry::Title(tenures) => self.holder(tenures, date).map(|a| (a, true)),
                };
                if let Some((actor, by_title)) = hit {
                    found = Some((n, Match { start, end, actor, by_title }));
                    break;
                }
            }
            match found {
                Some((n, m)) => {
                    out.push(m);
                    i += n;
                }
                None => i += 1,
            }
        }
        out
    }

    fn holder(&self, tenures: &[Tenure], date: Option<&str>) -> Option<Actor> {
        let t = match date {
            Some(d) => tenures.iter().find(|t| t.from.as_str() <= d && (t.to.is_empty() || d <= t.to.as_str()))?,
            None => tenures.iter().max_by(|a, b| (a.to.is_empty(), &a.to).cmp(&(b.to.is_empty(), &b.to)))?,
        };
        Some(self.actors[self.people[t.person]].clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Gazetteer {
        Gazetteer::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data/gazetteer.toml")).unwrap()
    }

    #[test]
    fn names_acronyms_and_metonyms() {
        let g = shipped();
        assert_eq!(g.lookup("SCO", None).unwrap().canonical, "Shanghai Cooperation Organization");
        assert_eq!(g.lookup("Belarus", None).unwrap().id.as_deref(), Some("BLR"));
        assert_eq!(g.lookup("Minsk", None).unwrap().stands_for.as_deref(), Some("Belarus"));
        assert_eq!(g.lookup("Belarusian", None).unwrap().stands_for.as_deref(), Some("Belarus"));
        let luk = g.lookup("Lukashenko", None).unwrap();
        assert_eq!((luk.canonical.as_str(), luk.affiliation.as_deref()), ("Alexander Lukashenko", Some("Belarus")));
        // Case matters for acronyms and names.
        assert!(g.find("let us talk about turkey", None).is_empty());
        // An abbreviation's final period is part of the mention, not of the matched words.
        for mention in ["U.S.", "U.S", "US"] {
            assert_eq!(g.lookup(mention, None).and_then(|a| a.id).as_deref(), Some("USA"), "{mention}");
        }
        assert!(g.lookup("U.S. Navy", None).is_none());
    }

    #[test]
    fn news_media_are_no_holders_unless_a_state_speaks_through_them() {
        let g = shipped();
        assert!(g.is_media("REUTERS") && g.is_media("LEMONDE"));
        assert!(!g.is_media("KCNA"));
        assert_eq!(g.lookup("KCNA", None).unwrap().stands_for.as_deref(), Some("North Korea"));
    }

    #[test]
    fn titles_resolve_by_date() {
        let g = shipped();
        let m = g.find("Belarusian Defense Minister Viktor Khrenin said", Some("2022-08-24"));
        assert_eq!(m[0].actor.canonical, "Viktor Khrenin");
        assert!(m[0].by_title);
        assert_eq!(g.lookup("President of Belarus", Some("2019-06-14")).unwrap().canonical, "Alexander Lukashenko");
        assert_eq!(g.lookup("President of Kazakhstan", Some("2017-11-30")).unwrap().canonical, "Nursultan Nazarbayev");
    }

    #[test]
    fn offsets_are_code_points() {
        let g = shipped();
        let text = "“Belarus’ partner”: Minsk";
        let m = g.find(text, None);
        let slice = |s: usize, e: usize| text.chars().skip(s).take(e - s).collect::<String>();
        assert_eq!(slice(m[0].start, m[0].end), "Belarus");
        assert_eq!(slice(m[1].start, m[1].end), "Minsk");
    }
}
