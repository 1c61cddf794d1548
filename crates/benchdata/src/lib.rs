//! Benchmark data for `ferrule bench` and the criterion benches.
//!
//! Everything here is deterministic, so two runs (and two machines) measure
//! the same bytes:
//!
//! * [`citylots`] — citylots-shaped GeoJSON features, one per line: a port of
//!   the project's `bench/gen_citylots.py` (same random number generator, so
//!   at [`CITYLOTS_FULL_LINES`] lines the output is the script's output, byte
//!   for byte). Shorter files scale the special rows so that the four classic
//!   citylots patterns ([`CITYLOTS_PATTERNS`]) still match.
//! * [`load_rules`] — `rules-1k.json` / `rules-10k.json` from the shared
//!   directory ([`shared_dir`]), or rule sets of the same shape made by
//!   [`generate_rules`] when it is absent.
//! * [`twitter_events`] — the tweets of `data/twitter.json` (one event per
//!   tweet), or deep, array-heavy tweets from [`generate_tweets`].
//! * [`cloudtrail_events`] — CloudTrail API-call events with IPv4 and IPv6
//!   source addresses, for `cidr` rules.
//! * [`BenchData::scenarios`] — the named benchmark scenarios over them.
//! * [`timing`] — wall and thread-CPU timing for the benches' summary lines
//!   (standard library only).
//!
//! The shared directory is `$FERRULE_SHARED` if set, else `../shared` (from
//! the current directory, then from the crate's source directory).

#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

pub mod timing;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde_json::value::RawValue;
use serde_json::{Map, Value};

// ---------------------------------------------------------------------------
// Python's random number generator
// ---------------------------------------------------------------------------

/// Python's `random.Random` (MT19937 and the derivation of `random()`,
/// `getrandbits`, `randint`, `choice`, `shuffle` and `expovariate` from it,
/// as in CPython 3.11), so that ports of the project's Python generators
/// produce the same values.
#[derive(Clone)]
pub struct PyRandom {
    state: Box<[u32; 624]>,
    index: usize,
}

impl fmt::Debug for PyRandom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PyRandom")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl PyRandom {
    const N: usize = 624;
    const M: usize = 397;

    /// `random.Random(seed)` for a non-negative integer seed.
    pub fn new(seed: u64) -> PyRandom {
        let key: Vec<u32> = if seed >> 32 == 0 {
            vec![seed as u32]
        } else {
            vec![seed as u32, (seed >> 32) as u32]
        };
        let mut mt = Box::new([0u32; 624]);
        mt[0] = 19_650_218;
        for i in 1..Self::N {
            mt[i] = 1_812_433_253u32
                .wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..Self::N.max(key.len()) {
            mt[i] = (mt[i] ^ (mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= Self::N {
                mt[0] = mt[Self::N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..Self::N - 1 {
            mt[i] = (mt[i] ^ (mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_mul(1_566_083_941))
                .wrapping_sub(i as u32);
            i += 1;
            if i >= Self::N {
                mt[0] = mt[Self::N - 1];
                i = 1;
            }
        }
        mt[0] = 0x8000_0000;
        PyRandom {
            state: mt,
            index: Self::N,
        }
    }

    fn twist(&mut self) {
        let mt = &mut self.state;
        for k in 0..Self::N {
            let y = (mt[k] & 0x8000_0000) | (mt[(k + 1) % Self::N] & 0x7fff_ffff);
            let mag = if y & 1 == 0 { 0 } else { 0x9908_b0df };
            mt[k] = mt[(k + Self::M) % Self::N] ^ (y >> 1) ^ mag;
        }
        self.index = 0;
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= Self::N {
            self.twist();
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `random()`: a float in [0, 1) with 53 random bits.
    pub fn random(&mut self) -> f64 {
        let a = f64::from(self.next_u32() >> 5);
        let b = f64::from(self.next_u32() >> 6);
        (a * 67_108_864.0 + b) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `getrandbits(k)` for `1 <= k <= 32`.
    pub fn getrandbits(&mut self, k: u32) -> u32 {
        debug_assert!((1..=32).contains(&k));
        self.next_u32() >> (32 - k)
    }

    /// `_randbelow(n)`: uniform in `0..n` (`n > 0`, below 2^32).
    pub fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0 && n <= u32::MAX as usize);
        let k = usize::BITS - n.leading_zeros();
        loop {
            let r = self.getrandbits(k) as usize;
            if r < n {
                return r;
            }
        }
    }

    /// `randint(a, b)`: uniform in `a..=b`.
    pub fn randint(&mut self, a: i64, b: i64) -> i64 {
        a + self.below((b - a + 1) as usize) as i64
    }

    /// `choice(items)`.
    pub fn choice<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `shuffle(items)`.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    /// `expovariate(lambd)`.
    pub fn expovariate(&mut self, lambd: f64) -> f64 {
        -(1.0 - self.random()).ln() / lambd
    }
}

// ---------------------------------------------------------------------------
// Citylots
// ---------------------------------------------------------------------------

/// The number of lines of the public citylots file (and of `gen_citylots.py`).
pub const CITYLOTS_FULL_LINES: usize = 206_560;

/// The default seed of `gen_citylots.py`.
pub const CITYLOTS_SEED: u64 = 20_240_601;

/// The four classic citylots benchmark patterns (quamina's `TestCityLots`),
/// as (rule name, pattern text). Their counts on the full file are
/// CRANLEIGH 7, 17TH Even 836, Geometry 2, 0011008 1.
pub const CITYLOTS_PATTERNS: [(&str, &str); 4] = [
    (
        "CRANLEIGH",
        r#"{ "properties": { "STREET": [ "CRANLEIGH" ] } }"#,
    ),
    (
        "17TH Even",
        r#"{ "properties": { "STREET": [ "17TH" ], "ODD_EVEN": [ "E"] } }"#,
    ),
    (
        "Geometry",
        r#"{ "geometry": { "coordinates": [ 37.807807921694092 ] } }"#,
    ),
    (
        "0011008",
        r#"{ "properties": { "MAPBLKLOT": ["0011008"], "BLKLOT": ["0011008"]},  "geometry": { "coordinates": [ -122.418261722815416 ] } }"#,
    ),
];

/// How many lines of a generated citylots file each of [`CITYLOTS_PATTERNS`]
/// matches, in that order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CitylotsCounts(pub [usize; 4]);

/// Citylots-shaped JSON Lines.
#[derive(Clone, Debug)]
pub struct Citylots {
    /// One GeoJSON feature per line, without the newline.
    pub lines: Vec<Vec<u8>>,
    /// What [`CITYLOTS_PATTERNS`] match in `lines`.
    pub counts: CitylotsCounts,
}

/// Generates `n` citylots lines with the default seed (see [`write_citylots`]).
pub fn citylots(n: usize) -> Citylots {
    let mut lines = Vec::with_capacity(n);
    let counts = generate_citylots(n, CITYLOTS_SEED, |line| {
        lines.push(line.as_bytes().to_vec());
        Ok(())
    })
    .expect("writing to memory cannot fail");
    Citylots { lines, counts }
}

/// Writes `n` citylots lines (each ending in `\n`) to `out`.
///
/// With `n` = [`CITYLOTS_FULL_LINES`] and `seed` = [`CITYLOTS_SEED`] the text
/// equals the output of `gen_citylots.py`. Fewer lines keep the shape; the
/// CRANLEIGH and 17TH rows are scaled down (at least one of each) and the
/// two rows that carry the magic coordinate are always present.
pub fn write_citylots(n: usize, seed: u64, out: &mut dyn Write) -> io::Result<CitylotsCounts> {
    generate_citylots(n, seed, |line| {
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")
    })
}

const REAL_STREETS: &str =
    "MARKET MISSION VALENCIA GUERRERO DOLORES CHURCH SANCHEZ NOE CASTRO DIAMOND DOUGLASS
HOFFMAN GRAND_VIEW FOLSOM HARRISON BRYANT YORK HAMPSHIRE POTRERO UTAH VERMONT KANSAS RHODE_ISLAND
DE_HARO CAROLINA WISCONSIN ARKANSAS CONNECTICUT MISSOURI TEXAS MISSISSIPPI PENNSYLVANIA INDIANA
IOWA ILLINOIS TENNESSEE MINNESOTA GEARY OFARRELL ELLIS EDDY TURK GOLDEN_GATE MCALLISTER FULTON
GROVE HAYES FELL OAK PAGE HAIGHT WALLER DUBOCE HERMANN BEACH NORTH_POINT BAY FRANCISCO CHESTNUT
LOMBARD GREENWICH FILBERT UNION GREEN VALLEJO BROADWAY PACIFIC JACKSON WASHINGTON CLAY SACRAMENTO
CALIFORNIA PINE BUSH SUTTER POST GEARY CLEMENT ANZA BALBOA CABRILLO FULTON LINCOLN IRVING JUDAH
KIRKHAM LAWTON MORAGA NORIEGA ORTEGA PACHECO QUINTARA RIVERA SANTIAGO TARAVAL ULLOA VICENTE
WAWONA SLOAT OCEAN HOLLOWAY OTIS GOUGH OCTAVIA LAGUNA BUCHANAN WEBSTER FILLMORE STEINER PIERCE
SCOTT DIVISADERO BRODERICK BAKER LYON CENTRAL MASONIC ASHBURY CLAYTON COLE SHRADER STANYAN ARGUELLO
PARKER COLLINS WOOD PALM JORDAN COMMONWEALTH MAPLE SPRUCE LOCUST LAUREL WALNUT POWELL MASON
TAYLOR JONES LEAVENWORTH HYDE LARKIN POLK VAN_NESS FRANKLIN KEARNY MONTGOMERY SANSOME BATTERY
FRONT DAVIS DRUMM STOCKTON GRANT COLUMBUS EMBARCADERO HOWARD NATOMA MINNA TEHAMA CLEMENTINA
SHIPLEY HARRIET BRANNAN TOWNSEND KING BERRY CHANNEL CESAR_CHAVEZ ARMY PRECITA ALABAMA FLORIDA
BALMY TREAT SHOTWELL CAPP LEXINGTON BARTLETT SAN_CARLOS ORANGE LAPIDGE ANGELICA JERSEY ELIZABETH
CLIPPER 24TH 25TH 26TH CORTLAND BOCANA ANDOVER MOULTRIE GATES ELLSWORTH CRESCENT SILVER
MANSELL OXFORD CAMBRIDGE AMHERST YALE HARVARD PRINCETON DARTMOUTH BURROWS FELTON BACON WAYLAND
GENEVA MISSION PERSIA BRAZIL RUSSIA ITALY FRANCE AVALON MUNICH PRAGUE MOSCOW NAPLES VIENNA
ATHENS LISBON MADRID EXCELSIOR BRUNSWICK CURTIS LOWELL OMAR ALEMANY SUNNYDALE VISITACION
LELAND RAYMOND TEDDY ARLETA CAMPBELL BLANKEN TUNNEL BAYSHORE SAN_BRUNO PALOU QUESADA REVERE
SHAFTER THOMAS UNDERWOOD VAN_DYKE WALLACE YOSEMITE ARMSTRONG BANCROFT CARROLL DONNER EGBERT
FITZGERALD GILROY HUDSON INNES JAMESTOWN KIRKWOOD LASALLE MENDELL NEWCOMB OAKDALE PALOU
PORTOLA JUNIPERO_SERRA SAN_JOSE ALEMANY MONTEREY HAZELWOOD DETROIT GENNESSEE FOERSTER PHELAN
FRIDA_KAHLO OCEAN_VIEW MIRAMAR FAXON JULES RIDGEWOOD MARINER DEWEY LAGUNA_HONDA CLARENDON
TWIN_PEAKS CLIPPER PORTOLA ELK CHENERY BOSWORTH MILTON SURREY SUSSEX CHARLES DIAMOND_HEIGHTS
GOLDMINE BERKELEY DUNCAN VALLEY DAY 29TH 30TH STATES STATES ROOSEVELT BUENA_VISTA";

const SYLLABLES: [&str; 40] = [
    "AL", "BER", "CA", "DO", "EL", "FRA", "GOR", "HAR", "IN", "JO", "KEN", "LA", "MO", "NOR", "OS",
    "PEN", "QUIN", "RO", "SAN", "TA", "UL", "VER", "WIL", "XE", "YOR", "ZA", "TON", "WOOD", "DALE",
    "VIEW", "MONT", "LAND", "FORD", "HILL", "CREST", "HAM", "LEY", "FIELD", "BROOK", "SIDE",
];

const MAGIC_LATITUDE: &str = "37.807807921694092";

fn ordinal(n: u32) -> String {
    let suffix = if (10..=20).contains(&(n % 100)) {
        "TH"
    } else {
        match n % 10 {
            1 => "ST",
            2 => "ND",
            3 => "RD",
            _ => "TH",
        }
    };
    format!("{n}{suffix}")
}

/// The street names of the citylots generator (about 1,800: real San
/// Francisco names, ordinals, and made-up names from syllables), in the
/// generator's order, with their cumulative Zipf-like weights.
fn citylots_streets(seed: u64) -> (Vec<String>, Vec<f64>) {
    let mut names: Vec<String> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for name in REAL_STREETS.split_whitespace().map(|s| s.replace('_', " ")) {
        if seen.insert(name.clone()) {
            names.push(name);
        }
    }
    for i in 1..49 {
        let o = ordinal(i);
        if o != "17TH" && !seen.contains(&o) {
            seen.insert(o.clone());
            names.push(o);
        }
    }
    let mut r = PyRandom::new(seed + 1);
    while names.len() < 1800 {
        let k = *r.choice(&[2, 2, 3, 3, 4]);
        let mut name: String = (0..k).map(|_| *r.choice(&SYLLABLES)).collect();
        if r.random() < 0.08 {
            name.push(' ');
            let extra = ["PARK", "HEIGHTS", "GARDEN", "VISTA"];
            name.push_str(extra[r.below(extra.len())]);
        }
        if !seen.contains(&name) && name != "CRANLEIGH" {
            seen.insert(name.clone());
            names.push(name);
        }
    }
    r.shuffle(&mut names);
    let mut cumulative = Vec::with_capacity(names.len());
    let mut acc = 0.0;
    for i in 0..names.len() {
        acc += 1.0 / ((i + 1) as f64).powf(0.95);
        cumulative.push(acc);
    }
    (names, cumulative)
}

const ST_TYPES: [(Option<&str>, usize); 14] = [
    (Some("ST"), 55),
    (Some("AVE"), 20),
    (Some("BLVD"), 3),
    (Some("WAY"), 3),
    (Some("DR"), 3),
    (Some("TER"), 3),
    (Some("CT"), 2),
    (Some("PL"), 2),
    (Some("LN"), 2),
    (Some("RD"), 1),
    (Some("CIR"), 1),
    (Some("ALY"), 1),
    (Some("HWY"), 1),
    (None, 4),
];

struct CitylotsGen {
    rng: PyRandom,
}

impl CitylotsGen {
    fn coord(&mut self, lon: f64, lat: f64) -> String {
        fn trim(mut s: String) -> String {
            while s.ends_with('0') {
                s.pop();
            }
            if s.ends_with('.') {
                s.push('0');
            }
            s
        }
        let lo_digits = *self.rng.choice(&[13usize, 14, 15, 15, 15]);
        let lo = trim(format!("{lon:.lo_digits$}"));
        let la_digits = *self.rng.choice(&[14usize, 15, 15, 15]);
        let la = trim(format!("{lat:.la_digits$}"));
        format!("[ {lo}, {la}, 0.0 ]")
    }

    fn ring(&mut self, cx: f64, cy: f64, n: usize) -> Vec<(f64, f64)> {
        let mut points = Vec::with_capacity(n + 1);
        for _ in 0..n {
            let x = cx + (self.rng.random() - 0.5) * 0.0012;
            let y = cy + (self.rng.random() - 0.5) * 0.0009;
            points.push((x, y));
        }
        points.push(points[0]);
        points
    }

    fn n_points(&mut self) -> usize {
        let u = self.rng.random();
        if u < 0.45 {
            return 4;
        }
        if u < 0.999 {
            let mut k = 4;
            while self.rng.random() > 0.085 && k < 400 {
                k += 1;
            }
            return k;
        }
        self.rng.randint(200, 1200) as usize
    }

    fn ring_text(&mut self, points: &[(f64, f64)], magic: bool) -> String {
        let mut items: Vec<String> = points.iter().map(|&(x, y)| self.coord(x, y)).collect();
        if magic {
            items[1] = format!("[ -122.418261722815416, {MAGIC_LATITUDE}, 0.0 ]");
        }
        format!("[ {} ]", items.join(", "))
    }
}

fn scaled(count: usize, n: usize) -> usize {
    if n == CITYLOTS_FULL_LINES {
        count
    } else {
        ((count * n + CITYLOTS_FULL_LINES / 2) / CITYLOTS_FULL_LINES).max(1)
    }
}

fn generate_citylots(
    n: usize,
    seed: u64,
    mut emit: impl FnMut(&str) -> io::Result<()>,
) -> io::Result<CitylotsCounts> {
    let (streets, cumulative) = citylots_streets(seed);
    let total_weight = *cumulative.last().expect("streets");
    let st_types: Vec<Option<&str>> = ST_TYPES
        .iter()
        .flat_map(|&(t, k)| std::iter::repeat_n(t, k))
        .collect();
    let mut g = CitylotsGen {
        rng: PyRandom::new(seed),
    };

    // Block and lot numbers, sorted.
    let mut lots: Vec<(String, String)> = Vec::with_capacity(n);
    let mut block = 1u32;
    while lots.len() < n {
        let nlots = (g.rng.expovariate(1.0 / 38.0) as usize).max(1);
        let block_suffix = if g.rng.random() < 0.03 { "A" } else { "" };
        for lot in 1..=nlots {
            let lot_suffix = if g.rng.random() < 0.01 { "A" } else { "" };
            lots.push((
                format!("{block:04}{block_suffix}"),
                format!("{lot:03}{lot_suffix}"),
            ));
            if lots.len() >= n {
                break;
            }
        }
        block += 1;
        if block > 9999 {
            block = 1;
        }
    }
    lots.sort();

    // The special rows.
    let mut idx: Vec<usize> = (0..n).collect();
    PyRandom::new(seed + 7).shuffle(&mut idx);
    let n_cran = scaled(7, n).min(n);
    let n_even = scaled(836, n).min(n - n_cran);
    let n_odd = scaled(870, n).min(n - n_cran - n_even);
    let mut role = vec![0u8; n]; // 1 CRANLEIGH, 2 17TH E, 3 17TH O
    for &i in &idx[..n_cran] {
        role[i] = 1;
    }
    for &i in &idx[n_cran..n_cran + n_even] {
        role[i] = 2;
    }
    for &i in &idx[n_cran + n_even..n_cran + n_even + n_odd] {
        role[i] = 3;
    }
    let special_lot = ("0011".to_string(), "008".to_string());
    let special = match lots.iter().position(|l| *l == special_lot) {
        Some(i) => i,
        None => {
            let at = if n > 500 { 500 } else { n / 2 };
            lots[at] = special_lot.clone();
            lots.sort();
            lots.iter()
                .position(|l| *l == special_lot)
                .expect("just inserted")
        }
    };
    let is_magic = |i: usize| i == special || i == special + 1;

    let mut counts = [0usize; 4];
    let mut line = String::with_capacity(4096);
    for (i, (b, l)) in lots.iter().enumerate() {
        let mut blklot = format!("{b}{l}");
        let mut mapblklot = if g.rng.random() < 0.9 {
            blklot.clone()
        } else {
            let lot_number: i64 = l[..3].parse().expect("digits");
            let earlier = (lot_number - g.rng.randint(1, 5)).max(1);
            format!("{b}{earlier:03}")
        };
        let (mut street, mut odd_even): (&str, &str) = match role[i] {
            1 => ("CRANLEIGH", *g.rng.choice(&["E", "O"])),
            2 => ("17TH", "E"),
            3 => ("17TH", "O"),
            _ => {
                let x = g.rng.random() * total_weight;
                let street = streets[cumulative.partition_point(|&c| c < x)].as_str();
                let odd_even = if g.rng.random() < 0.5 { "E" } else { "O" };
                if street == "17TH" || g.rng.random() < 0.03 {
                    ("UNKNOWN", odd_even)
                } else {
                    (street, odd_even)
                }
            }
        };
        if i == special {
            blklot = "0011008".to_string();
            mapblklot = blklot.clone();
            street = "BEACH";
            odd_even = "E";
        }
        let from = g.rng.randint(0, 4999) * if odd_even == "E" { 2 } else { 1 };
        let to = from
            + if g.rng.random() < 0.7 {
                0
            } else {
                2 * g.rng.randint(1, 30)
            };
        let st_type = match g.rng.choice(&st_types) {
            None => "null".to_string(),
            Some(t) => format!("\"{t}\""),
        };
        let cx = -122.51 + g.rng.random() * 0.15;
        let cy = 37.70 + g.rng.random() * 0.13;
        let geometry = if g.rng.random() < 0.02 && !is_magic(i) {
            let k = g.rng.randint(2, 4);
            let mut polygons = Vec::new();
            for _ in 0..k {
                let x = cx + g.rng.random() * 0.001;
                let points = g.n_points();
                let ring = g.ring(x, cy, points);
                polygons.push(format!("[ {} ]", g.ring_text(&ring, false)));
            }
            format!(
                "\"geometry\": {{ \"type\": \"MultiPolygon\", \"coordinates\": [ {} ] }}",
                polygons.join(", ")
            )
        } else {
            let points = g.n_points();
            let ring = g.ring(cx, cy, points);
            format!(
                "\"geometry\": {{ \"type\": \"Polygon\", \"coordinates\": [ {} ] }}",
                g.ring_text(&ring, is_magic(i))
            )
        };
        line.clear();
        line.push_str(&format!(
            "{{ \"type\": \"Feature\", \"properties\": {{ \"MAPBLKLOT\": \"{mapblklot}\", \
             \"BLKLOT\": \"{blklot}\", \"BLOCK_NUM\": \"{b}\", \"LOT_NUM\": \"{l}\", \
             \"FROM_ST\": \"{from}\", \"TO_ST\": \"{to}\", \"STREET\": \"{street}\", \
             \"ST_TYPE\": {st_type}, \"ODD_EVEN\": \"{odd_even}\" }}, {geometry} }}"
        ));
        emit(&line)?;

        if street == "CRANLEIGH" {
            counts[0] += 1;
        }
        if street == "17TH" && odd_even == "E" {
            counts[1] += 1;
        }
        if is_magic(i) {
            counts[2] += 1;
        }
        if i == special {
            counts[3] += 1;
        }
    }
    Ok(CitylotsCounts(counts))
}

// ---------------------------------------------------------------------------
// Shared files
// ---------------------------------------------------------------------------

/// Where the data came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataSource {
    /// Read from this file.
    File(PathBuf),
    /// Made by a generator in this module.
    Generated,
}

impl fmt::Display for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataSource::File(path) => write!(f, "{}", path.display()),
            DataSource::Generated => f.write_str("generated"),
        }
    }
}

/// The project's shared directory, if present: `$FERRULE_SHARED`, else
/// `../shared` from the current directory, else `../shared` beside the
/// crate's source directory.
pub fn shared_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("FERRULE_SHARED") {
        let dir = PathBuf::from(dir);
        return dir.is_dir().then_some(dir);
    }
    [
        PathBuf::from("../shared"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    ]
    .into_iter()
    .find(|d| d.is_dir())
}

fn shared_file(relative: &str) -> Option<PathBuf> {
    shared_dir()
        .map(|d| d.join(relative))
        .filter(|p| p.is_file())
}

// ---------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------

/// A named rule for benchmarking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenchRule {
    /// The rule name.
    pub name: String,
    /// The pattern text.
    pub pattern: String,
    /// The same rule for an engine that knows the classic operators but not
    /// `$or` or the anything-but / affix variants (such as quamina): the
    /// patterns to add under this rule's name (one per `$or` branch), or
    /// `None` if the rule cannot be expressed that way.
    pub portable: Option<Vec<String>>,
}

impl BenchRule {
    fn new(name: String, pattern: String) -> BenchRule {
        BenchRule {
            portable: Some(vec![pattern.clone()]),
            name,
            pattern,
        }
    }

    fn ferrule_only(name: String, pattern: String) -> BenchRule {
        BenchRule {
            name,
            pattern,
            portable: None,
        }
    }
}

/// Loads a rules file of the shared directory (`bench/rules-1k.json`,
/// `bench/rules-10k.json`: a JSON array of `{"name", "pattern"}`); if it is
/// absent or unreadable, generates `fallback_count` rules of the same shape
/// with [`generate_rules`].
pub fn load_rules(file_name: &str, fallback_count: usize) -> (Vec<BenchRule>, DataSource) {
    if let Some(path) = shared_file(&format!("bench/{file_name}"))
        && let Some(rules) = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| parse_rules(&t))
    {
        return (rules, DataSource::File(path));
    }
    (
        generate_rules(fallback_count, CITYLOTS_SEED + 1000 + fallback_count as u64),
        DataSource::Generated,
    )
}

fn parse_rules(text: &str) -> Option<Vec<BenchRule>> {
    #[derive(serde::Deserialize)]
    struct Record<'a> {
        name: String,
        #[serde(borrow)]
        pattern: &'a RawValue,
    }
    let records: Vec<Record<'_>> = serde_json::from_str(text).ok()?;
    records
        .into_iter()
        .map(|r| {
            // A string is pattern text; anything else is the pattern as written.
            let pattern = match serde_json::from_str::<String>(r.pattern.get()) {
                Ok(text) => text,
                Err(_) => r.pattern.get().to_string(),
            };
            Some(BenchRule::new(r.name, pattern))
        })
        .collect()
}

fn quote(s: &str) -> String {
    // Serializing a `&str` cannot fail.
    serde_json::to_string(s).unwrap_or_default()
}

fn quote_list<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s.as_ref())).collect();
    format!("[{}]", quoted.join(","))
}

/// The rule kinds of `rules-10k.json` with their counts there.
const RULE_KINDS: [(&str, usize); 11] = [
    ("exact", 2477),
    ("prefix", 1477),
    ("wildcard", 1034),
    ("numeric", 979),
    ("anything-but", 967),
    ("exact2", 963),
    ("multi-field", 525),
    ("equals-ignore-case", 498),
    ("exists-true", 493),
    ("exists-false", 483),
    ("anything-but-broad", 104),
];

/// Random block / lot numbers in the ranges of the citylots generator.
fn random_blklot(rng: &mut PyRandom) -> String {
    let block = rng.randint(1, 5400);
    let lot = rng.randint(1, 80);
    let suffix = if rng.random() < 0.02 { "A" } else { "" };
    format!("{block:04}{lot:03}{suffix}")
}

fn random_wildcard(rng: &mut PyRandom, street: &str) -> String {
    let chars: Vec<char> = street.chars().filter(|c| *c != '*' && *c != '\\').collect();
    let take = |k: usize, from_end: bool| -> String {
        let k = k.min(chars.len());
        if from_end {
            chars[chars.len() - k..].iter().collect()
        } else {
            chars[..k].iter().collect()
        }
    };
    let k = rng.randint(2, 3) as usize;
    match rng.below(3) {
        0 => format!("{}*", take(k, false)),
        1 => format!("*{}", take(k, true)),
        _ => format!("{}*{}", take(2, false), take(2, true)),
    }
}

/// Generates `n` rules shaped like `rules-1k.json` / `rules-10k.json`: names
/// `r00000-KIND`, kinds exact, prefix, wildcard, numeric, anything-but,
/// exact2, multi-field, equals-ignore-case, exists-true, exists-false and
/// anything-but-broad in the proportions of `rules-10k.json`, over the
/// fields and values of the citylots generator.
pub fn generate_rules(n: usize, seed: u64) -> Vec<BenchRule> {
    let (streets, _) = citylots_streets(CITYLOTS_SEED);
    let mut rng = PyRandom::new(seed);
    let total: usize = RULE_KINDS.iter().map(|(_, w)| w).sum();
    let st_types = ["ST", "AVE", "BLVD", "WAY", "DR", "TER"];
    (0..n)
        .map(|i| {
            let mut pick = rng.below(total);
            let kind = RULE_KINDS
                .iter()
                .find(|(_, w)| {
                    if pick < *w {
                        true
                    } else {
                        pick -= w;
                        false
                    }
                })
                .map_or("exact", |(k, _)| k);
            let street = |rng: &mut PyRandom| rng.choice(&streets).clone();
            let pattern = match kind {
                "exact" => {
                    let k = rng.randint(1, 3);
                    let mut names: Vec<String> = (0..k).map(|_| street(&mut rng)).collect();
                    names.sort();
                    names.dedup();
                    format!(r#"{{"properties":{{"STREET":{}}}}}"#, quote_list(&names))
                }
                "prefix" => {
                    let len = rng.randint(4, 6) as usize;
                    let prefix = &random_blklot(&mut rng)[..len];
                    format!(r#"{{"properties":{{"BLKLOT":[{{"prefix":{}}}]}}}}"#, quote(prefix))
                }
                "wildcard" => {
                    let s = street(&mut rng);
                    let w = random_wildcard(&mut rng, &s);
                    format!(r#"{{"properties":{{"STREET":[{{"wildcard":{}}}]}}}}"#, quote(&w))
                }
                "numeric" => {
                    let lo = 37.70 + rng.random() * 0.13;
                    let hi = lo + 0.0002 + rng.random() * 0.0008;
                    format!(
                        r#"{{"geometry":{{"coordinates":[{{"numeric":[">=",{lo:.5},"<",{hi:.5}]}}]}}}}"#
                    )
                }
                "anything-but" => {
                    let block = &random_blklot(&mut rng)[..4];
                    let k = rng.randint(1, 3);
                    let mut names: Vec<String> = (0..k).map(|_| street(&mut rng)).collect();
                    names.sort();
                    names.dedup();
                    format!(
                        r#"{{"properties":{{"BLOCK_NUM":[{}],"STREET":[{{"anything-but":{}}}]}}}}"#,
                        quote(block),
                        quote_list(&names)
                    )
                }
                "exact2" => {
                    let odd_even = rng.choice(&["E", "O"]);
                    format!(
                        r#"{{"properties":{{"ODD_EVEN":["{odd_even}"],"STREET":[{}]}}}}"#,
                        quote(&street(&mut rng))
                    )
                }
                "multi-field" => {
                    let geometry = if rng.random() < 0.92 { "Polygon" } else { "MultiPolygon" };
                    let blklot = random_blklot(&mut rng);
                    let map = if rng.random() < 0.9 {
                        blklot.clone()
                    } else {
                        random_blklot(&mut rng)
                    };
                    format!(
                        r#"{{"geometry":{{"type":["{geometry}"]}},"properties":{{"BLKLOT":[{}],"MAPBLKLOT":[{}]}}}}"#,
                        quote(&blklot),
                        quote(&map)
                    )
                }
                "equals-ignore-case" => format!(
                    r#"{{"properties":{{"STREET":[{{"equals-ignore-case":{}}}]}}}}"#,
                    quote(&street(&mut rng).to_lowercase())
                ),
                "exists-true" => format!(
                    r#"{{"properties":{{"LOT_NUM":[{{"exists":true}}],"STREET":[{}]}}}}"#,
                    quote(&street(&mut rng))
                ),
                "exists-false" => {
                    let prefix = &random_blklot(&mut rng)[..5];
                    format!(
                        r#"{{"properties":{{"BLKLOT":[{{"prefix":{}}}],"ZONING":[{{"exists":false}}]}}}}"#,
                        quote(prefix)
                    )
                }
                _ => {
                    let k = rng.randint(2, 6) as usize;
                    format!(
                        r#"{{"properties":{{"ST_TYPE":[{{"anything-but":{}}}]}}}}"#,
                        quote_list(&st_types[..k])
                    )
                }
            };
            BenchRule::new(format!("r{i:05}-{kind}"), pattern)
        })
        .collect()
}

/// Writes rules as a JSON array of `{"name": .., "pattern": ..}` (the form
/// of `rules-1k.json`), one rule per line.
pub fn write_rules(rules: &[BenchRule], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "[")?;
    for (i, rule) in rules.iter().enumerate() {
        let comma = if i + 1 < rules.len() { "," } else { "" };
        writeln!(
            out,
            "  {{\"name\":{},\"pattern\":{}}}{comma}",
            quote(&rule.name),
            rule.pattern
        )?;
    }
    writeln!(out, "]")
}

// ---------------------------------------------------------------------------
// Tweets
// ---------------------------------------------------------------------------

/// The tweets of the shared `data/twitter.json` (a search result whose
/// `statuses` array holds 100 tweets), each as one compact JSON event; if
/// the file is absent, 100 tweets from [`generate_tweets`].
pub fn twitter_events() -> (Vec<Vec<u8>>, DataSource) {
    if let Some(path) = shared_file("data/twitter.json")
        && let Some(events) = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| split_statuses(&t))
    {
        return (events, DataSource::File(path));
    }
    (generate_tweets(100, 1), DataSource::Generated)
}

fn split_statuses(text: &str) -> Option<Vec<Vec<u8>>> {
    #[derive(serde::Deserialize)]
    struct Statuses<'a> {
        #[serde(borrow)]
        statuses: Vec<&'a RawValue>,
    }
    let parsed: Statuses<'_> = serde_json::from_str(text).ok()?;
    let events: Vec<Vec<u8>> = parsed
        .statuses
        .iter()
        .map(|s| compact(s.get()).map(String::into_bytes))
        .collect::<Option<_>>()?;
    (!events.is_empty()).then_some(events)
}

/// `text` (valid JSON) without insignificant whitespace, each string
/// re-escaped as serde_json writes it (escapes decoded, only `"`, `\\` and
/// control characters escaped) and every number and key kept as written:
/// the form the events had when the benchmarks were first measured.
fn compact(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                let token = text.get(start..=i)?;
                let decoded: String = serde_json::from_str(token).ok()?;
                out.push_str(&serde_json::to_string(&decoded).ok()?);
                i += 1;
            }
            b' ' | b'\n' | b'\r' | b'\t' => i += 1,
            _ => {
                let start = i;
                while i < bytes.len() && !matches!(bytes[i], b'"' | b' ' | b'\n' | b'\r' | b'\t') {
                    i += 1;
                }
                out.push_str(text.get(start..i)?);
            }
        }
    }
    Some(out)
}

const WORDS: [&str; 32] = [
    "event", "rust", "cloud", "lambda", "router", "pattern", "stream", "queue", "bridge", "tokyo",
    "summer", "music", "game", "news", "coffee", "data", "night", "match", "rule", "team", "city",
    "photo", "travel", "food", "book", "code", "sky", "river", "train", "light", "dream", "story",
];
const LANGS: [&str; 8] = ["en", "ja", "es", "pt", "fr", "de", "ko", "ar"];

struct TweetGen {
    rng: PyRandom,
    users: Vec<(u64, String, String)>,
}

impl TweetGen {
    fn word(&mut self) -> &'static str {
        WORDS[self.rng.below(WORDS.len())]
    }

    fn user(&mut self, out: &mut String) {
        let (id, screen, name) = self.rng.choice(&self.users).clone();
        let lang = *self.rng.choice(&LANGS);
        let followers = (self.rng.expovariate(1.0 / 2000.0)) as u64;
        let friends = self.rng.randint(0, 3000);
        let statuses = self.rng.randint(0, 90_000);
        let desc = format!(
            "{} {} \u{2764}\u{fe0f} {}",
            self.word(),
            self.word(),
            self.word()
        );
        let url = if self.rng.random() < 0.4 {
            format!(
                r#""url":"http://t.co/{screen}","entities":{{"url":{{"urls":[{{"url":"http://t.co/{screen}","expanded_url":"http://{screen}.example.com","display_url":"{screen}.example.com","indices":[0,22]}}]}},"description":{{"urls":[]}}}}"#
            )
        } else {
            r#""url":null,"entities":{"description":{"urls":[]}}"#.to_string()
        };
        out.push_str(&format!(
            r#""user":{{"id":{id},"id_str":"{id}","name":{},"screen_name":"{screen}","location":"","description":{},{url},"protected":false,"followers_count":{followers},"friends_count":{friends},"listed_count":{},"created_at":"Sat Feb 16 13:40:25 +0000 2013","favourites_count":{},"utc_offset":null,"time_zone":null,"geo_enabled":false,"verified":false,"statuses_count":{statuses},"lang":"{lang}","contributors_enabled":false,"is_translator":false,"profile_background_color":"C0DEED","profile_image_url":"http://pbs.twimg.com/profile_images/{id}/a_normal.jpeg","profile_link_color":"0084B4","profile_use_background_image":true,"default_profile":true,"default_profile_image":false,"following":false,"follow_request_sent":false,"notifications":false}}"#,
            quote(&name),
            quote(&desc),
            self.rng.randint(0, 50),
            self.rng.randint(0, 5000),
        ));
    }

    fn entities(&mut self, out: &mut String) -> String {
        let mut text = String::new();
        let mut hashtags = Vec::new();
        for _ in 0..self.rng.randint(0, 4) {
            let tag = format!("{}{}", self.word(), self.word());
            let at = text.len();
            text.push_str(&format!("#{tag} "));
            hashtags.push(format!(
                r#"{{"text":"{tag}","indices":[{at},{}]}}"#,
                at + tag.len() + 1
            ));
        }
        let mut mentions = Vec::new();
        for _ in 0..self.rng.randint(0, 3) {
            let (id, screen, name) = self.rng.choice(&self.users).clone();
            let at = text.len();
            text.push_str(&format!("@{screen} "));
            mentions.push(format!(
                r#"{{"screen_name":"{screen}","name":{},"id":{id},"id_str":"{id}","indices":[{at},{}]}}"#,
                quote(&name),
                at + screen.len() + 1
            ));
        }
        let mut urls = Vec::new();
        for _ in 0..self.rng.randint(0, 2) {
            let host = self.word();
            let path = self.rng.randint(1, 99_999);
            let at = text.len();
            text.push_str(&format!("http://t.co/{path} "));
            urls.push(format!(
                r#"{{"url":"http://t.co/{path}","expanded_url":"http://{host}.example.com/{path}","display_url":"{host}.example.com/{path}","indices":[{at},{}]}}"#,
                at + 20
            ));
        }
        for _ in 0..self.rng.randint(3, 12) {
            text.push_str(self.word());
            text.push(' ');
        }
        out.push_str(&format!(
            r#""entities":{{"hashtags":[{}],"symbols":[],"urls":[{}],"user_mentions":[{}]}}"#,
            hashtags.join(","),
            urls.join(","),
            mentions.join(",")
        ));
        text
    }

    fn tweet(&mut self, id: u64, retweet_depth: u32) -> String {
        let mut body = String::new();
        let entities = {
            let mut e = String::new();
            let text = self.entities(&mut e);
            (e, text)
        };
        let lang = *self.rng.choice(&LANGS);
        body.push_str(&format!(
            r#"{{"metadata":{{"result_type":"recent","iso_language_code":"{lang}"}},"created_at":"Sun Aug 31 00:29:{:02} +0000 2014","id":{id},"id_str":"{id}","text":{},"source":"<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>","truncated":false,"in_reply_to_status_id":null,"in_reply_to_status_id_str":null,"in_reply_to_user_id":null,"in_reply_to_user_id_str":null,"in_reply_to_screen_name":null,"#,
            self.rng.randint(0, 59),
            quote(&entities.1)
        ));
        self.user(&mut body);
        body.push_str(r#","geo":null,"coordinates":null,"place":null,"contributors":null,"#);
        if retweet_depth > 0 && self.rng.random() < 0.5 {
            let older = id - 1_000_000 - self.rng.randint(0, 999_999) as u64;
            let inner = self.tweet(older, 0);
            body.push_str(&format!(r#""retweeted_status":{inner},"#));
        }
        body.push_str(&format!(
            r#""retweet_count":{},"favorite_count":{},"#,
            self.rng.randint(0, 500),
            self.rng.randint(0, 500)
        ));
        body.push_str(&entities.0);
        body.push_str(&format!(
            r#","favorited":false,"retweeted":false,"possibly_sensitive":false,"lang":"{lang}"}}"#
        ));
        body
    }
}

/// Generates `n` tweets shaped like those of the Twitter search API (user
/// objects, entities with hashtag / mention / URL arrays carrying index
/// pairs, half of them with a nested `retweeted_status`), one event each.
pub fn generate_tweets(n: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = PyRandom::new(seed);
    let users = (0..60)
        .map(|i| {
            let screen = format!("{}_{}{}", rng.choice(&WORDS), rng.choice(&WORDS), i);
            let name = format!("{} {}", rng.choice(&SYLLABLES), rng.choice(&SYLLABLES));
            (
                1_000_000 + rng.randint(0, 1_000_000_000) as u64,
                screen,
                name,
            )
        })
        .collect();
    let mut g = TweetGen { rng, users };
    (0..n)
        .map(|i| {
            g.tweet(505_874_924_095_815_681 + i as u64 * 7919, 1)
                .into_bytes()
        })
        .collect()
}

// ---------------------------------------------------------------------------
// CloudTrail events
// ---------------------------------------------------------------------------

const SERVICES: [(&str, &[&str]); 5] = [
    (
        "s3",
        &["PutObject", "GetObject", "DeleteObject", "CreateBucket"],
    ),
    ("ec2", &["RunInstances", "TerminateInstances", "CreateTags"]),
    ("iam", &["CreateRole", "AttachRolePolicy", "PassRole"]),
    (
        "lambda",
        &[
            "Invoke",
            "CreateFunction20150331",
            "UpdateFunctionCode20150331v2",
        ],
    ),
    ("sts", &["AssumeRole", "GetCallerIdentity"]),
];
const REGIONS: [&str; 6] = [
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-northeast-1",
    "sa-east-1",
];

fn random_ip(rng: &mut PyRandom) -> String {
    let u = rng.random();
    let byte = |rng: &mut PyRandom| rng.randint(0, 255);
    if u < 0.30 {
        format!("10.{}.{}.{}", rng.randint(0, 15), byte(rng), byte(rng))
    } else if u < 0.45 {
        format!("172.{}.{}.{}", rng.randint(16, 31), byte(rng), byte(rng))
    } else if u < 0.55 {
        format!("192.168.{}.{}", rng.randint(0, 7), byte(rng))
    } else if u < 0.80 {
        format!(
            "{}.{}.{}.{}",
            rng.randint(1, 223),
            byte(rng),
            byte(rng),
            byte(rng)
        )
    } else if u < 0.95 {
        let prefix = rng.choice(&["2001:db8", "2600:1f18", "2a05:d018", "fd00:ec2"]);
        format!(
            "{prefix}:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}",
            rng.randint(0, 15),
            rng.randint(0, 0xffff),
            rng.randint(0, 0xffff),
            rng.randint(0, 0xffff),
            rng.randint(0, 0xffff),
            rng.randint(0, 0xffff)
        )
    } else {
        (*rng.choice(&["s3.amazonaws.com", "ec2.amazonaws.com", "AWS Internal"])).to_string()
    }
}

/// Generates `n` EventBridge events of CloudTrail API calls (about 1 KB
/// each): the event envelope, `detail.userIdentity`, request parameters, and
/// a `detail.sourceIPAddress` that is an IPv4 address (private or public), an
/// IPv6 address, or a service name.
pub fn cloudtrail_events(n: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = PyRandom::new(seed);
    let accounts: Vec<String> = (0..8)
        .map(|_| {
            let high = rng.randint(100_000, 999_999);
            format!("{high}{:06}", rng.randint(0, 999_999))
        })
        .collect();
    let hex = |rng: &mut PyRandom, k: usize| -> String {
        (0..k)
            .map(|_| char::from_digit(rng.below(16) as u32, 16).expect("hex digit"))
            .collect()
    };
    (0..n)
        .map(|i| {
            let (service, calls) = *rng.choice(&SERVICES);
            let call = *rng.choice(calls);
            let account = rng.choice(&accounts).clone();
            let region = *rng.choice(&REGIONS);
            let ip = random_ip(&mut rng);
            let id = format!(
                "{}-{}-{}-{}-{}",
                hex(&mut rng, 8),
                hex(&mut rng, 4),
                hex(&mut rng, 4),
                hex(&mut rng, 4),
                hex(&mut rng, 12)
            );
            let role = rng.choice(&["Admin", "Deployer", "ReadOnly", "CiRunner"]);
            let session = format!("session-{}", rng.randint(1, 9999));
            let minute = i % 60;
            let second = rng.randint(0, 59);
            let params = match service {
                "s3" => format!(
                    r#"{{"bucketName":"bucket-{}","key":"logs/{}/{}.json.gz","Host":"bucket.s3.{region}.amazonaws.com"}}"#,
                    rng.randint(1, 40),
                    rng.randint(2019, 2024),
                    rng.randint(1, 1_000_000)
                ),
                "ec2" => format!(
                    r#"{{"instancesSet":{{"items":[{{"instanceId":"i-{}"}},{{"instanceId":"i-{}"}}]}},"dryRun":false}}"#,
                    hex(&mut rng, 17),
                    hex(&mut rng, 17)
                ),
                _ => format!(
                    r#"{{"roleArn":"arn:aws:iam::{account}:role/{role}","roleSessionName":"{session}","durationSeconds":{}}}"#,
                    rng.randint(900, 43_200)
                ),
            };
            format!(
                r#"{{"version":"0","id":"{id}","detail-type":"AWS API Call via CloudTrail","source":"aws.{service}","account":"{account}","time":"2024-06-01T12:{minute:02}:{second:02}Z","region":"{region}","resources":[],"detail":{{"eventVersion":"1.08","userIdentity":{{"type":"AssumedRole","principalId":"AROA{}:{session}","arn":"arn:aws:sts::{account}:assumed-role/{role}/{session}","accountId":"{account}","accessKeyId":"ASIA{}","sessionContext":{{"sessionIssuer":{{"type":"Role","arn":"arn:aws:iam::{account}:role/{role}","userName":"{role}"}},"attributes":{{"creationDate":"2024-06-01T11:00:00Z","mfaAuthenticated":"false"}}}}}},"eventTime":"2024-06-01T12:{minute:02}:{second:02}Z","eventSource":"{service}.amazonaws.com","eventName":"{call}","awsRegion":"{region}","sourceIPAddress":"{ip}","userAgent":"aws-cli/2.15.{} Python/3.11.6 Linux/6.1 botocore/2.0","requestParameters":{params},"responseElements":null,"requestID":"{}","eventID":"{}","readOnly":{},"eventType":"AwsApiCall","managementEvent":{},"recipientAccountId":"{account}","eventCategory":"Management"}}}}"#,
                hex(&mut rng, 16).to_uppercase(),
                hex(&mut rng, 16).to_uppercase(),
                rng.randint(0, 40),
                hex(&mut rng, 16).to_uppercase(),
                hex(&mut rng, 32),
                rng.random() < 0.4,
                service != "s3",
            )
            .into_bytes()
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------

/// Which event set a scenario matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventSet {
    /// Citylots GeoJSON features (~0.9 KB, number-heavy).
    Citylots,
    /// Tweets (2-9 KB, deep, with arrays of objects).
    Twitter,
    /// CloudTrail API-call events (~1.2 KB, with IP addresses).
    CloudTrail,
}

impl EventSet {
    /// All event sets.
    pub const ALL: [EventSet; 3] = [EventSet::Citylots, EventSet::Twitter, EventSet::CloudTrail];

    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            EventSet::Citylots => "citylots",
            EventSet::Twitter => "twitter",
            EventSet::CloudTrail => "cloudtrail",
        }
    }
}

/// A named benchmark: a rule set over an event set.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The scenario name (`op-exact`, `citylots-4`, `rules-10k`, ...).
    pub name: String,
    /// One line about what it measures.
    pub about: String,
    /// The events it matches.
    pub events: EventSet,
    /// The rules.
    pub rules: Vec<BenchRule>,
    /// Whether every rule has a [`BenchRule::portable`] form.
    pub portable: bool,
}

impl Scenario {
    fn new(name: &str, about: &str, events: EventSet, rules: Vec<BenchRule>) -> Scenario {
        Scenario {
            name: name.to_string(),
            about: about.to_string(),
            events,
            portable: rules.iter().all(|r| r.portable.is_some()),
            rules,
        }
    }
}

/// All benchmark inputs.
#[derive(Clone, Debug)]
pub struct BenchData {
    /// Citylots lines.
    pub citylots: Vec<Vec<u8>>,
    /// The four classic counts in `citylots`, when it was generated.
    pub citylots_counts: Option<CitylotsCounts>,
    /// Where the citylots lines came from.
    pub citylots_source: DataSource,
    /// Tweets, one event each (repeated to make a batch).
    pub twitter: Vec<Vec<u8>>,
    /// Where the tweets came from.
    pub twitter_source: DataSource,
    /// CloudTrail events.
    pub cloudtrail: Vec<Vec<u8>>,
    /// The 1k rule set.
    pub rules_1k: Vec<BenchRule>,
    /// Where it came from.
    pub rules_1k_source: DataSource,
    /// The 10k rule set.
    pub rules_10k: Vec<BenchRule>,
    /// Where it came from.
    pub rules_10k_source: DataSource,
}

impl BenchData {
    /// Generates `citylots_lines` citylots lines and loads (or generates) the
    /// rest; the tweets are repeated to about `citylots_lines / 10` events
    /// and there are `citylots_lines` CloudTrail events.
    pub fn generate(citylots_lines: usize) -> BenchData {
        let city = citylots(citylots_lines);
        BenchData::with_citylots(city.lines, Some(city.counts), DataSource::Generated)
    }

    /// Uses the given citylots lines and loads (or generates) the rest.
    pub fn with_citylots(
        lines: Vec<Vec<u8>>,
        counts: Option<CitylotsCounts>,
        source: DataSource,
    ) -> BenchData {
        let n = lines.len().max(1);
        let (tweets, twitter_source) = twitter_events();
        let repeat = (n / 10).div_ceil(tweets.len()).max(1);
        let twitter: Vec<Vec<u8>> = (0..repeat).flat_map(|_| tweets.iter().cloned()).collect();
        let (rules_1k, rules_1k_source) = load_rules("rules-1k.json", 1000);
        let (rules_10k, rules_10k_source) = load_rules("rules-10k.json", 10_000);
        BenchData {
            citylots: lines,
            citylots_counts: counts,
            citylots_source: source,
            twitter,
            twitter_source,
            cloudtrail: cloudtrail_events(n, 42),
            rules_1k,
            rules_1k_source,
            rules_10k,
            rules_10k_source,
        }
    }

    /// The events of `set`.
    pub fn events(&self, set: EventSet) -> &[Vec<u8>] {
        match set {
            EventSet::Citylots => &self.citylots,
            EventSet::Twitter => &self.twitter,
            EventSet::CloudTrail => &self.cloudtrail,
        }
    }

    /// Every scenario, in a stable order: one exact rule (`exact-1`), one per operator group
    /// (`op-...`), the four classic citylots patterns (`citylots-4`), the
    /// mixed rule sets (`rules-1k`, `rules-10k`) and the rule-count scaling
    /// series (`scale-10`, `scale-100`, `scale-1000`: the first rules of
    /// the 10k set; `rules-10k` completes the series).
    pub fn scenarios(&self) -> Vec<Scenario> {
        let sample = CitylotsSample::of(&self.citylots);
        let mut out = vec![Scenario::new(
            "exact-1",
            "one exact rule (STREET = CRANLEIGH)",
            EventSet::Citylots,
            vec![BenchRule::new(
                "cranleigh".to_string(),
                r#"{"properties":{"STREET":["CRANLEIGH"]}}"#.to_string(),
            )],
        )];
        out.extend(operator_scenarios(&sample, &self.twitter, &self.cloudtrail));
        out.push(Scenario::new(
            "citylots-4",
            "the four classic citylots patterns",
            EventSet::Citylots,
            CITYLOTS_PATTERNS
                .iter()
                .map(|(n, p)| BenchRule::new(n.to_string(), p.to_string()))
                .collect(),
        ));
        out.push(Scenario::new(
            "rules-1k",
            "1,000 mixed rules (rules-1k.json)",
            EventSet::Citylots,
            self.rules_1k.clone(),
        ));
        out.push(Scenario::new(
            "rules-10k",
            "10,000 mixed rules (rules-10k.json)",
            EventSet::Citylots,
            self.rules_10k.clone(),
        ));
        for n in [10, 100, 1000] {
            out.push(Scenario::new(
                &format!("scale-{n}"),
                &format!("the first {n} rules of rules-10k.json"),
                EventSet::Citylots,
                self.rules_10k[..n.min(self.rules_10k.len())].to_vec(),
            ));
        }
        out
    }
}

/// The structural-index baseline: ferrule's event reader in validated mode
/// with no rule, so that it enters no member and only checks and skips —
/// the cost of finding the structure of an event, the floor of validated
/// matching.
#[derive(Debug, Default)]
pub struct StructureReader {
    reader: ferrule::FieldReader,
}

impl StructureReader {
    /// Whether `event` is a valid event (checked throughout).
    pub fn check(&mut self, event: &[u8]) -> bool {
        self.reader
            .read(event, ferrule::ReadMode::Validated)
            .is_ok()
    }

    /// The trusted mode's floor: the reader entering nothing and checking
    /// nothing, so that every top-level member is jumped over by the
    /// 64-byte structural classification (stage 1 alone). Whether it got
    /// to the end.
    pub fn skim(&mut self, event: &[u8]) -> bool {
        self.reader.read(event, ferrule::ReadMode::Trusted).is_ok()
    }
}

/// The memory floor: one `memchr` pass over the event counting quotes.
pub fn memchr_scan(event: &[u8]) -> usize {
    memchr::memchr_iter(b'"', event).count()
}

/// Values seen in citylots lines, to aim generated rules at real values.
struct CitylotsSample {
    /// Street names, most frequent first.
    streets: Vec<String>,
    blklots: Vec<String>,
    blocks: Vec<String>,
}

impl CitylotsSample {
    fn of(lines: &[Vec<u8>]) -> CitylotsSample {
        let step = (lines.len() / 2000).max(1);
        let mut streets: BTreeMap<String, usize> = BTreeMap::new();
        let mut blklots = BTreeSet::new();
        let mut blocks = BTreeSet::new();
        for line in lines.iter().step_by(step) {
            let Ok(Value::Object(top)) = serde_json::from_slice::<Value>(line) else {
                continue;
            };
            let Some(Value::Object(props)) = top.get("properties") else {
                continue;
            };
            for (k, v) in props {
                if let Value::String(s) = v {
                    match k.as_str() {
                        "STREET" => *streets.entry(s.clone()).or_default() += 1,
                        "BLKLOT" => {
                            blklots.insert(s.clone());
                        }
                        "BLOCK_NUM" => {
                            blocks.insert(s.clone());
                        }
                        _ => {}
                    }
                }
            }
        }
        let mut by_count: Vec<(String, usize)> = streets.into_iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut sample = CitylotsSample {
            streets: by_count.into_iter().map(|(s, _)| s).collect(),
            blklots: blklots.into_iter().collect(),
            blocks: blocks.into_iter().collect(),
        };
        // Never empty, whatever the input.
        if sample.streets.is_empty() {
            sample.streets = citylots_streets(CITYLOTS_SEED).0;
        }
        if sample.blklots.is_empty() {
            sample.blklots = vec!["0001001".to_string()];
        }
        if sample.blocks.is_empty() {
            sample.blocks = vec!["0001".to_string()];
        }
        sample
    }

    /// A street: half the time one of the 40 most frequent, else any.
    fn street(&self, rng: &mut PyRandom) -> String {
        let top = self.streets.len().min(40);
        if rng.random() < 0.5 {
            self.streets[rng.below(top)].clone()
        } else {
            rng.choice(&self.streets).clone()
        }
    }

    fn blklot(&self, rng: &mut PyRandom) -> String {
        rng.choice(&self.blklots).clone()
    }

    fn block(&self, rng: &mut PyRandom) -> String {
        rng.choice(&self.blocks).clone()
    }
}

fn chars_prefix(s: &str, k: usize) -> String {
    s.chars().take(k).collect()
}

fn chars_suffix(s: &str, k: usize) -> String {
    let n = s.chars().count();
    s.chars().skip(n.saturating_sub(k)).collect()
}

fn mixed_case(s: &str, rng: &mut PyRandom) -> String {
    match rng.below(3) {
        0 => s.to_lowercase(),
        1 => s
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i == 0 {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect(),
        _ => s
            .chars()
            .map(|c| {
                if rng.random() < 0.5 {
                    c.to_ascii_lowercase()
                } else {
                    c
                }
            })
            .collect(),
    }
}

fn operator_scenarios(
    sample: &CitylotsSample,
    twitter: &[Vec<u8>],
    cloudtrail: &[Vec<u8>],
) -> Vec<Scenario> {
    let mut rng = PyRandom::new(7);
    let rng = &mut rng;
    let mut out = Vec::new();
    let mut group = |name: &str, about: &str, events: EventSet, rules: Vec<BenchRule>| {
        out.push(Scenario::new(name, about, events, rules));
    };
    let named =
        |kind: &str, i: usize, pattern: String| BenchRule::new(format!("{kind}-{i:03}"), pattern);
    let named_only = |kind: &str, i: usize, pattern: String| {
        BenchRule::ferrule_only(format!("{kind}-{i:03}"), pattern)
    };

    // exact
    let rules = (0..100)
        .map(|i| {
            let p = match i {
                0..60 => format!(
                    r#"{{"properties":{{"STREET":[{}]}}}}"#,
                    quote(&sample.street(rng))
                ),
                60..90 => format!(
                    r#"{{"properties":{{"BLOCK_NUM":[{}]}}}}"#,
                    quote(&sample.block(rng))
                ),
                _ => format!(
                    r#"{{"properties":{{"STREET":[{}],"ODD_EVEN":["E"]}}}}"#,
                    quote(&sample.street(rng))
                ),
            };
            named("exact", i, p)
        })
        .collect();
    group(
        "op-exact",
        "100 exact-string rules (STREET, BLOCK_NUM, STREET+ODD_EVEN)",
        EventSet::Citylots,
        rules,
    );

    // prefix
    let rules = (0..100)
        .map(|i| {
            let p = if i < 70 {
                let k = rng.randint(4, 6) as usize;
                format!(
                    r#"{{"properties":{{"BLKLOT":[{{"prefix":{}}}]}}}}"#,
                    quote(&chars_prefix(&sample.blklot(rng), k))
                )
            } else {
                let k = rng.randint(2, 3) as usize;
                format!(
                    r#"{{"properties":{{"STREET":[{{"prefix":{}}}]}}}}"#,
                    quote(&chars_prefix(&sample.street(rng), k))
                )
            };
            named("prefix", i, p)
        })
        .collect();
    group(
        "op-prefix",
        "100 prefix rules (BLKLOT, STREET)",
        EventSet::Citylots,
        rules,
    );

    // suffix
    let rules = (0..100)
        .map(|i| {
            let p = if i < 80 {
                let k = rng.randint(2, 4) as usize;
                format!(
                    r#"{{"properties":{{"STREET":[{{"suffix":{}}}]}}}}"#,
                    quote(&chars_suffix(&sample.street(rng), k))
                )
            } else {
                format!(
                    r#"{{"properties":{{"BLKLOT":[{{"suffix":{}}}]}}}}"#,
                    quote(&chars_suffix(&sample.blklot(rng), 3))
                )
            };
            named("suffix", i, p)
        })
        .collect();
    group(
        "op-suffix",
        "100 suffix rules (STREET, BLKLOT)",
        EventSet::Citylots,
        rules,
    );

    // equals-ignore-case
    let rules = (0..100)
        .map(|i| {
            let p = if i < 90 {
                format!(
                    r#"{{"properties":{{"STREET":[{{"equals-ignore-case":{}}}]}}}}"#,
                    quote(&mixed_case(&sample.street(rng), rng))
                )
            } else {
                let t = *rng.choice(&["st", "Ave", "blvd", "WAY", "Dr", "ter"]);
                format!(
                    r#"{{"properties":{{"ST_TYPE":[{{"equals-ignore-case":"{t}"}}],"ODD_EVEN":["{}"]}}}}"#,
                    rng.choice(&["E", "O"])
                )
            };
            named("eic", i, p)
        })
        .collect();
    group(
        "op-equals-ignore-case",
        "100 equals-ignore-case rules (STREET, ST_TYPE)",
        EventSet::Citylots,
        rules,
    );

    // prefix / suffix with equals-ignore-case
    let rules = (0..100)
        .map(|i| {
            let street = sample.street(rng);
            let p = if i < 50 {
                let k = rng.randint(2, 4) as usize;
                format!(
                    r#"{{"properties":{{"STREET":[{{"prefix":{{"equals-ignore-case":{}}}}}]}}}}"#,
                    quote(&mixed_case(&chars_prefix(&street, k), rng))
                )
            } else {
                let k = rng.randint(2, 4) as usize;
                format!(
                    r#"{{"properties":{{"STREET":[{{"suffix":{{"equals-ignore-case":{}}}}}]}}}}"#,
                    quote(&mixed_case(&chars_suffix(&street, k), rng))
                )
            };
            named_only("affix-eic", i, p)
        })
        .collect();
    group(
        "op-affix-ignore-case",
        "100 prefix/suffix equals-ignore-case rules (STREET)",
        EventSet::Citylots,
        rules,
    );

    // wildcard
    let rules = (0..100)
        .map(|i| {
            let street = sample.street(rng);
            let w = if i % 10 == 9 {
                let chars: Vec<char> = street.chars().collect();
                let mid = chars.len() / 2;
                let inner: String = chars[mid.saturating_sub(1)..(mid + 1).min(chars.len())]
                    .iter()
                    .collect();
                format!("*{inner}*")
            } else {
                random_wildcard(rng, &street)
            };
            named(
                "wildcard",
                i,
                format!(
                    r#"{{"properties":{{"STREET":[{{"wildcard":{}}}]}}}}"#,
                    quote(&w)
                ),
            )
        })
        .collect();
    group(
        "op-wildcard",
        "100 wildcard rules (STREET: A*, *Z, A*Z, *M*)",
        EventSet::Citylots,
        rules,
    );

    // numeric
    let rules = (0..100)
        .map(|i| {
            let p = match i {
                0..80 => {
                    let lo = 37.70 + rng.random() * 0.13;
                    let hi = lo + 0.0002 + rng.random() * 0.0008;
                    format!(
                        r#"{{"geometry":{{"coordinates":[{{"numeric":[">=",{lo:.5},"<",{hi:.5}]}}]}}}}"#
                    )
                }
                80..90 => {
                    let lo = -122.51 + rng.random() * 0.15;
                    let hi = lo + 0.0002 + rng.random() * 0.0008;
                    format!(
                        r#"{{"geometry":{{"coordinates":[{{"numeric":[">",{lo:.5},"<=",{hi:.5}]}}]}}}}"#
                    )
                }
                _ => {
                    let edge = 37.829 + rng.random() * 0.001;
                    format!(r#"{{"geometry":{{"coordinates":[{{"numeric":[">",{edge:.6}]}}]}}}}"#)
                }
            };
            named("numeric", i, p)
        })
        .collect();
    group(
        "op-numeric",
        "100 numeric range rules over every coordinate",
        EventSet::Citylots,
        rules,
    );

    // anything-but (lists)
    let rules = (0..100)
        .map(|i| {
            let p = match i {
                0..80 => {
                    let k = rng.randint(1, 3);
                    let names: Vec<String> = (0..k).map(|_| sample.street(rng)).collect();
                    format!(
                        r#"{{"properties":{{"BLOCK_NUM":[{}],"STREET":[{{"anything-but":{}}}]}}}}"#,
                        quote(&sample.block(rng)),
                        quote_list(&names)
                    )
                }
                80..90 => {
                    let k = rng.randint(2, 6) as usize;
                    format!(
                        r#"{{"properties":{{"ST_TYPE":[{{"anything-but":{}}}]}}}}"#,
                        quote_list(&["ST", "AVE", "BLVD", "WAY", "DR", "TER"][..k])
                    )
                }
                _ => format!(
                    r#"{{"geometry":{{"type":[{{"anything-but":"Polygon"}}]}},"properties":{{"ODD_EVEN":["{}"]}}}}"#,
                    rng.choice(&["E", "O"])
                ),
            };
            named("anything-but", i, p)
        })
        .collect();
    group(
        "op-anything-but",
        "100 anything-but list rules (80 guarded by BLOCK_NUM, 20 broad)",
        EventSet::Citylots,
        rules,
    );

    // anything-but variants
    let rules = (0..100)
        .map(|i| {
            let street = sample.street(rng);
            let inner = match i % 4 {
                0 => format!(r#"{{"prefix":{}}}"#, quote(&chars_prefix(&street, 2))),
                1 => format!(r#"{{"suffix":{}}}"#, quote(&chars_suffix(&street, 2))),
                2 => format!(r#"{{"wildcard":{}}}"#, quote(&random_wildcard(rng, &street))),
                _ => format!(
                    r#"{{"equals-ignore-case":{}}}"#,
                    quote_list(&[mixed_case(&street, rng), mixed_case(&sample.street(rng), rng)])
                ),
            };
            let p = if i < 80 {
                format!(
                    r#"{{"properties":{{"BLOCK_NUM":[{}],"STREET":[{{"anything-but":{inner}}}]}}}}"#,
                    quote(&sample.block(rng))
                )
            } else {
                format!(r#"{{"properties":{{"STREET":[{{"anything-but":{inner}}}]}}}}"#)
            };
            named_only("anything-but-variant", i, p)
        })
        .collect();
    group(
        "op-anything-but-variants",
        "100 anything-but prefix/suffix/wildcard/equals-ignore-case rules",
        EventSet::Citylots,
        rules,
    );

    // exists
    let rules = (0..100)
        .map(|i| {
            let p = match i {
                0..40 => format!(
                    r#"{{"properties":{{"LOT_NUM":[{{"exists":true}}],"STREET":[{}]}}}}"#,
                    quote(&sample.street(rng))
                ),
                40..80 => format!(
                    r#"{{"properties":{{"BLKLOT":[{{"prefix":{}}}],"ZONING":[{{"exists":false}}]}}}}"#,
                    quote(&chars_prefix(&sample.blklot(rng), 5))
                ),
                80..90 => format!(
                    r#"{{"properties":{{"ZONING":[{{"exists":true}}],"BLOCK_NUM":[{}]}}}}"#,
                    quote(&sample.block(rng))
                ),
                _ => format!(
                    r#"{{"properties":{{"BLOCK_NUM":[{}],"MAPBLKLOT":[{{"exists":true}}]}}}}"#,
                    quote(&sample.block(rng))
                ),
            };
            named("exists", i, p)
        })
        .collect();
    group(
        "op-exists",
        "100 rules with exists true/false",
        EventSet::Citylots,
        rules,
    );

    // cidr
    let ips: Vec<String> = cloudtrail
        .iter()
        .take(2000)
        .filter_map(|e| {
            let text = std::str::from_utf8(e).ok()?;
            let at = text.find("\"sourceIPAddress\":\"")? + 19;
            let end = text[at..].find('"')? + at;
            Some(text[at..end].to_string())
        })
        .collect();
    let v4: Vec<&String> = ips
        .iter()
        .filter(|ip| ip.parse::<std::net::Ipv4Addr>().is_ok())
        .collect();
    let v6: Vec<&String> = ips
        .iter()
        .filter(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok())
        .collect();
    let rules = (0..100)
        .map(|i| {
            let cidr = if i < 85 || v6.is_empty() {
                let ip: std::net::Ipv4Addr = match v4.is_empty() {
                    true => std::net::Ipv4Addr::new(10, 0, 0, 1),
                    false => rng.choice(&v4).parse().expect("filtered"),
                };
                let len = *rng.choice(&[8u32, 12, 16, 20, 24, 28, 32]);
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                format!("{}/{len}", std::net::Ipv4Addr::from(u32::from(ip) & mask))
            } else {
                let ip: std::net::Ipv6Addr = rng.choice(&v6).parse().expect("filtered");
                let len = *rng.choice(&[32u32, 48, 64]);
                let mask = u128::MAX << (128 - len);
                format!("{}/{len}", std::net::Ipv6Addr::from(u128::from(ip) & mask))
            };
            let p = if i % 3 == 0 {
                format!(
                    r#"{{"source":["aws.s3"],"detail":{{"sourceIPAddress":[{{"cidr":"{cidr}"}}]}}}}"#
                )
            } else {
                format!(r#"{{"detail":{{"sourceIPAddress":[{{"cidr":"{cidr}"}}]}}}}"#)
            };
            named("cidr", i, p)
        })
        .collect();
    group(
        "op-cidr",
        "100 cidr rules (IPv4 /8-/32, IPv6 /32-/64)",
        EventSet::CloudTrail,
        rules,
    );

    // $or
    let rules = (0..100)
        .map(|i| {
            let street = quote(&sample.street(rng));
            let (pattern, branches) = if i < 60 {
                let prefix = quote(&chars_prefix(&sample.blklot(rng), 5));
                let a = format!(r#"{{"properties":{{"STREET":[{street}]}}}}"#);
                let b = format!(r#"{{"properties":{{"BLKLOT":[{{"prefix":{prefix}}}]}}}}"#);
                (format!(r#"{{"$or":[{a},{b}]}}"#), vec![a, b])
            } else {
                let odd_even = rng.choice(&["E", "O"]);
                (
                    format!(
                        r#"{{"properties":{{"ODD_EVEN":["{odd_even}"]}},"$or":[{{"properties":{{"STREET":[{street}]}}}},{{"geometry":{{"type":["MultiPolygon"]}}}}]}}"#
                    ),
                    vec![
                        format!(r#"{{"properties":{{"ODD_EVEN":["{odd_even}"],"STREET":[{street}]}}}}"#),
                        format!(
                            r#"{{"properties":{{"ODD_EVEN":["{odd_even}"]}},"geometry":{{"type":["MultiPolygon"]}}}}"#
                        ),
                    ],
                )
            };
            BenchRule {
                name: format!("or-{i:03}"),
                pattern,
                portable: Some(branches),
            }
        })
        .collect();
    group(
        "op-or",
        "100 $or rules (peers without $or get one pattern per branch)",
        EventSet::Citylots,
        rules,
    );

    // arrays
    group(
        "op-arrays",
        "100 rules over tweets' arrays of objects (hashtags, mentions, urls; same-element pairs)",
        EventSet::Twitter,
        array_rules(twitter, rng),
    );
    out
}

/// Values of the tweets, for rules that hit.
#[derive(Default)]
struct TweetSample {
    hashtags: BTreeSet<String>,
    retweet_hashtags: BTreeSet<String>,
    mentions: Vec<(String, String)>,
    langs: BTreeSet<String>,
    url_hosts: BTreeSet<String>,
    followers: Vec<f64>,
}

fn member<'a>(members: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    members.get(key)
}

fn sample_tweet(tweet: &Map<String, Value>, sample: &mut TweetSample, top: bool) {
    if let Some(Value::Object(entities)) = member(tweet, "entities") {
        if let Some(Value::Array(tags)) = member(entities, "hashtags") {
            for tag in tags {
                if let Value::Object(t) = tag
                    && let Some(Value::String(text)) = member(t, "text")
                {
                    if top {
                        sample.hashtags.insert(text.clone());
                    } else {
                        sample.retweet_hashtags.insert(text.clone());
                    }
                }
            }
        }
        if let Some(Value::Array(mentions)) = member(entities, "user_mentions") {
            for m in mentions {
                if let Value::Object(m) = m
                    && let (Some(Value::String(name)), Some(Value::String(id))) =
                        (member(m, "screen_name"), member(m, "id_str"))
                {
                    sample.mentions.push((name.clone(), id.clone()));
                }
            }
        }
        if let Some(Value::Array(urls)) = member(entities, "urls") {
            for u in urls {
                if let Value::Object(u) = u
                    && let Some(Value::String(url)) = member(u, "expanded_url")
                {
                    let host: String = url.split('/').take(3).collect::<Vec<_>>().join("/");
                    sample.url_hosts.insert(host);
                }
            }
        }
    }
    if let Some(Value::Object(user)) = member(tweet, "user") {
        if let Some(Value::String(lang)) = member(user, "lang") {
            sample.langs.insert(lang.clone());
        }
        if let Some(Value::Number(n)) = member(user, "followers_count")
            && let Some(n) = n.as_f64()
        {
            sample.followers.push(n);
        }
    }
    if top && let Some(Value::Object(inner)) = member(tweet, "retweeted_status") {
        sample_tweet(inner, sample, false);
    }
}

fn array_rules(tweets: &[Vec<u8>], rng: &mut PyRandom) -> Vec<BenchRule> {
    let mut sample = TweetSample::default();
    let mut seen = BTreeSet::new();
    for t in tweets {
        if !seen.insert(t.as_slice()) {
            continue;
        }
        if let Ok(Value::Object(tweet)) = serde_json::from_slice::<Value>(t) {
            sample_tweet(&tweet, &mut sample, true);
        }
    }
    let pick = |set: &BTreeSet<String>, rng: &mut PyRandom, fallback: &str| -> String {
        if set.is_empty() {
            fallback.to_string()
        } else {
            set.iter()
                .nth(rng.below(set.len()))
                .expect("in range")
                .clone()
        }
    };
    let mention = |rng: &mut PyRandom| -> (String, String) {
        if sample.mentions.is_empty() {
            ("nobody".to_string(), "0".to_string())
        } else {
            rng.choice(&sample.mentions).clone()
        }
    };
    let mut followers = sample.followers.clone();
    followers.sort_by(f64::total_cmp);
    (0..100)
        .map(|i| {
            let p = match i {
                0..20 => format!(
                    r#"{{"entities":{{"hashtags":{{"text":[{}]}}}}}}"#,
                    quote(&pick(&sample.hashtags, rng, "rust"))
                ),
                20..40 => format!(
                    r#"{{"entities":{{"user_mentions":{{"screen_name":[{}]}}}}}}"#,
                    quote(&mention(rng).0)
                ),
                40..50 => {
                    // Both fields from the same mention: matches.
                    let (name, id) = mention(rng);
                    format!(
                        r#"{{"entities":{{"user_mentions":{{"screen_name":[{}],"id_str":[{}]}}}}}}"#,
                        quote(&name),
                        quote(&id)
                    )
                }
                50..60 => {
                    // Fields from two different mentions: array consistency
                    // says no match unless one mention carries both.
                    let (name, _) = mention(rng);
                    let (_, id) = mention(rng);
                    format!(
                        r#"{{"entities":{{"user_mentions":{{"screen_name":[{}],"id_str":[{}]}}}}}}"#,
                        quote(&name),
                        quote(&id)
                    )
                }
                60..70 => format!(
                    r#"{{"user":{{"lang":[{}]}},"entities":{{"hashtags":{{"text":[{{"exists":true}}]}}}}}}"#,
                    quote(&pick(&sample.langs, rng, "en"))
                ),
                70..80 => {
                    let (lo, hi) = if followers.is_empty() {
                        (0.0, 100.0)
                    } else {
                        let a = followers[rng.below(followers.len())];
                        (a, a * 2.0 + 10.0)
                    };
                    format!(
                        r#"{{"user":{{"followers_count":[{{"numeric":[">=",{lo},"<",{hi}]}}]}}}}"#
                    )
                }
                80..90 => format!(
                    r#"{{"retweeted_status":{{"entities":{{"hashtags":{{"text":[{}]}}}}}}}}"#,
                    quote(&pick(&sample.retweet_hashtags, rng, "rust"))
                ),
                _ => format!(
                    r#"{{"entities":{{"urls":{{"expanded_url":[{{"prefix":{}}}]}}}}}}"#,
                    quote(&pick(&sample.url_hosts, rng, "http://"))
                ),
            };
            BenchRule::new(format!("arrays-{i:03}"), p)
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Parse-only baselines
// ---------------------------------------------------------------------------

/// The parse-only baseline: simd-json parses a copy of each event fully onto
/// a tape (buffers, copy and tape are reused, so nothing is allocated per
/// event once they have grown). A matcher that reads its input with
/// simd-json cannot be faster than this; it is the limit to approach.
pub struct SimdParser {
    copy: Vec<u8>,
    buffers: simd_json::Buffers,
    tape: Option<simd_json::Tape<'static>>,
}

impl fmt::Debug for SimdParser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimdParser").finish_non_exhaustive()
    }
}

impl Default for SimdParser {
    fn default() -> SimdParser {
        SimdParser::new()
    }
}

impl SimdParser {
    /// A parser with empty buffers.
    pub fn new() -> SimdParser {
        SimdParser {
            copy: Vec::new(),
            buffers: simd_json::Buffers::new(4096),
            tape: Some(simd_json::Tape::null()),
        }
    }

    /// Parses `event`; returns the number of tape nodes (0 if it is not JSON).
    pub fn parse(&mut self, event: &[u8]) -> usize {
        self.copy.clear();
        self.copy.extend_from_slice(event);
        let mut tape = self
            .tape
            .take()
            .unwrap_or_else(simd_json::Tape::null)
            .reset();
        let nodes = match simd_json::fill_tape(&mut self.copy, &mut self.buffers, &mut tape) {
            Ok(()) => tape.0.len(),
            Err(_) => 0,
        };
        self.tape = Some(tape.reset());
        nodes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrule::RuleSet;

    #[test]
    fn py_random_matches_cpython() {
        // Values printed by CPython 3.11 for random.Random(20240601).
        let mut r = PyRandom::new(20_240_601);
        assert_eq!(r.random(), 0.11799648743459645);
        assert_eq!(r.getrandbits(32), 1_804_907_957);
        assert_eq!(r.randint(1, 5), 4);
        assert_eq!(*r.choice(&[13, 14, 15, 15, 15]), 15);
        assert_eq!(r.expovariate(1.0 / 38.0), 33.33883865717325);
        let mut x: Vec<u32> = (0..10).collect();
        PyRandom::new(5).shuffle(&mut x);
        assert_eq!(x, [2, 3, 1, 0, 8, 7, 6, 5, 4, 9]);
    }

    fn count(rules: &[(&str, &str)], lines: &[Vec<u8>]) -> Vec<usize> {
        let mut set = RuleSet::new();
        for (name, pattern) in rules {
            set.add(name, pattern).unwrap();
        }
        let m = set.compile();
        let mut counts = vec![0; rules.len()];
        for line in lines {
            for id in m.matches(line).unwrap() {
                let at = rules.iter().position(|(n, _)| *n == m.name(id)).unwrap();
                counts[at] += 1;
            }
        }
        counts
    }

    #[test]
    fn citylots_has_the_classic_hits() {
        for n in [300, 5000] {
            let city = citylots(n);
            assert_eq!(city.lines.len(), n);
            let got = count(&CITYLOTS_PATTERNS, &city.lines);
            assert_eq!(got, city.counts.0, "n = {n}");
            assert!(got.iter().all(|&c| c > 0), "{got:?}");
        }
    }

    #[test]
    fn citylots_starts_like_the_script() {
        // The first line of `gen_citylots.py` with the default seed.
        let city = citylots(CITYLOTS_FULL_LINES.min(2));
        let first = String::from_utf8(city.lines[0].clone()).unwrap();
        assert!(first.starts_with(r#"{ "type": "Feature", "properties": { "MAPBLKLOT": "0001001", "BLKLOT": "0001001", "BLOCK_NUM": "0001", "LOT_NUM": "001""#), "{first}");
    }

    #[test]
    fn generated_rules_and_scenarios_compile() {
        let rules = generate_rules(2000, 3);
        let mut set = RuleSet::new();
        for r in &rules {
            set.add(&r.name, &r.pattern)
                .unwrap_or_else(|e| panic!("{}: {e}", r.pattern));
        }
        let city = citylots(2000);
        let data = BenchData::with_citylots(city.lines, Some(city.counts), DataSource::Generated);
        for s in data.scenarios() {
            let mut set = RuleSet::new();
            for r in &s.rules {
                set.add(&r.name, &r.pattern)
                    .unwrap_or_else(|e| panic!("{}: {}: {e}", s.name, r.pattern));
                for p in r.portable.iter().flatten() {
                    ferrule::Pattern::parse(p).unwrap_or_else(|e| panic!("{}: {p}: {e}", s.name));
                }
            }
            let m = set.compile();
            let hits: usize = data
                .events(s.events)
                .iter()
                .map(|e| m.matches(e).unwrap().len())
                .sum();
            assert!(hits > 0, "scenario {} matches nothing", s.name);
        }
    }

    #[test]
    fn compact_keeps_the_shared_tweets() {
        let Some(path) = shared_file("data/twitter.json") else {
            return;
        };
        let text = std::fs::read_to_string(path).unwrap();
        let whole: Value = serde_json::from_str(&text).unwrap();
        let events = split_statuses(&text).unwrap();
        let Value::Array(statuses) = &whole["statuses"] else {
            panic!("statuses")
        };
        assert_eq!(events.len(), statuses.len());
        if let Ok(out) = std::env::var("DUMP_TWEETS") {
            std::fs::write(out, events.join(&b'\n')).unwrap();
        }
        for (e, s) in events.iter().zip(statuses) {
            let parsed: Value = serde_json::from_slice(e).unwrap();
            assert_eq!(&parsed, s);
        }
    }

    #[test]
    fn compact_drops_whitespace_and_keeps_numbers_and_keys() {
        let text =
            "{\n  \"a b\": [1.50, -0e3 ,true],\n  \"s\": \"x\\u00e9\\/\\n\\\"\", \"a b\": null\n}";
        assert_eq!(
            compact(text).unwrap(),
            "{\"a b\":[1.50,-0e3,true],\"s\":\"xé/\\n\\\"\",\"a b\":null}"
        );
    }

    #[test]
    fn generated_tweets_and_trails_are_json() {
        for e in generate_tweets(20, 9)
            .iter()
            .chain(cloudtrail_events(50, 9).iter())
        {
            serde_json::from_slice::<serde_json::Value>(e).unwrap();
        }
    }
}
