#!/usr/bin/env bash
# Regenerates validation/robustness.md: every bad input and fault of issue 14 tried against
# the release binary, with the exit code and the message it gets now. Takes about a minute.
#   cargo build --release && validation/robustness.sh
set -u
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$ROOT/target/release/metalens"
OUT="$ROOT/validation/robustness.md"
W="$(mktemp -d)"
trap 'rm -rf "$W"' EXIT
# The `library` cases use the analytic stand-in solver of the tests (tests/fake_cli: the
# shipped binary has no test flag): `$LIB library ... --test-solver` runs the same CLI entry in
# the robustness test binary, re-executed as a child, exactly as tests/robustness.rs does.
(cd "$ROOT" && cargo test --release --test robustness --no-run -q 2> /dev/null)
FAKE="$(ls -t "$ROOT"/target/release/deps/robustness-* | grep -v '[.]d$' | head -1)"
LIB="$W/lib.sh"
printf '#!/usr/bin/env bash\nIFS=$(printf "\\037")\nexport METALENS_FAKE_CLI_ARGS="$*"\nexec "%s" --exact fake_cli::child --nocapture --test-threads=1 --quiet\n' "$FAKE" > "$LIB"
chmod +x "$LIB"
cd "$W"

SMALL='[library]
pitches = [0.2, 0.3]
radius = { start = 0.03, stop = 0.12, step = 0.01 }
harmonics = 20
'
MK1="$(cat "$ROOT/designs/mk1.toml")"
SWEEP="$(cat "$ROOT/designs/pitch-sweep.toml")"
printf '%s' "$SMALL" > s.toml
printf '%s[lens]\nna = 0.5\ndiameter = 6.0\npitch = 0.3\n' "$SMALL" > sl.toml

ROWS=""
n=0
row() { # description, exit code, message
    n=$((n + 1))
    local msg
    msg="$(printf '%s' "$3" | sed -e "s#$W/##g" -e 's/|/\\|/g' -e '/^running 1 test$/d' | tr '\n' ' ' | sed 's/  */ /g')"
    ROWS+="| $n | $1 | $2 | ${msg} |"$'\n'
}
try() { # description, command...
    local d="$1"
    shift
    local err code
    err="$("$@" 2>&1 >/dev/null)"
    code=$?
    row "$d" "$code" "$err"
}

mkdir -p adir.h5
try '`library -o` an existing folder (18 slow cells)' "$LIB" library s.toml -o adir.h5 --test-solver --test-solver-delay-ms 300
try '`library -o` the input design file' "$LIB" library s.toml -o s.toml --test-solver
try '`library -o` into a missing folder' "$LIB" library s.toml -o nope/lib.h5 --test-solver
try '`cell --harmonics 100000` (inside the documented range)' "$BIN" cell --harmonics 100000
printf '%s' "${SMALL/harmonics = 20/harmonics = 100000}" > h.toml
try 'library sweep at 100000 harmonics' "$LIB" library h.toml -o h.h5
printf '[library]\npitches = [0.3]\nradius = { start = 0.01, stop = 0.1, count = 1000000000000 }\n' > r.toml
try 'radius range of 10¹² values' "$LIB" library r.toml -o r.h5 --test-solver
printf '[library]\npitch_range = { start = 0.3, stop = 1.0, step = 0.00001 }\nradius = { start = 0.01, stop = 0.1, count = 1000000 }\n' > p.toml
try '70 001 pitches × 10⁶ radii' "$LIB" library p.toml -o p.h5 --test-solver
printf '%s' "${MK1/diameter = 20.0/diameter = 100000.0}" > big.toml
try 'reproduce a 100 mm lens' "$BIN" reproduce big.toml --out o --quiet
printf '%s' "${MK1/na = 0.9/na = 1.0}" > na1.toml
try 'reproduce with NA 1 (air)' "$BIN" reproduce na1.toml --out o --quiet
printf '%s' "${SWEEP/nas = \[0.9, 0.99\]/nas = [0.9, 1.0]}" > st.toml
try 'study with NA 1 among its NAs' "$BIN" run st.toml --out o2 --quiet
printf '%s' "${MK1/na = 0.9/na = 0.9999}" > f.toml
try 'NA 0.9999, D = 20 µm (focal length 0.14 µm)' "$BIN" reproduce f.toml --out o --quiet
printf '[cell]\nmin_gap = 0.2\n[library]\npitches = [0.2, 0.3]\nradius = { start = 0.03, stop = 0.09, step = 0.01 }\n' > ng.toml
try 'a pitch where no radius fits (library with no valid cell)' "$LIB" library ng.toml -o ng.h5 --test-solver
printf 'name = "x"\n[cell]\nheight = "high"\n' > t.toml
try 'type error: `height = "high"`' "$LIB" library t.toml -o t.h5 --test-solver
printf '[library]\npitches = [0.3]\nradius = [0.03, 0.1, 0.01]\n' > l.toml
try 'a list where a range table is expected (`radius`)' "$LIB" library l.toml -o l.h5 --test-solver
printf '[library]\npitch_range = [0.2, 0.4, 0.1]\n' > pr.toml
try 'a list where a range table is expected (`pitch_range`)' "$LIB" library pr.toml -o l.h5 --test-solver
printf '[cell]\nhieght = 0.8\n' > u.toml
try 'unknown key' "$LIB" library u.toml -o u.h5 --test-solver
for kv in 'polarization = "z"' 'aperture = "glass"' 'efficiency_radii = []' 'efficiency_radii = [-1.0]' 'samples_per_pitch = 1' 'planes = [5.0]' 'sampels = 4'; do
    printf '%s\n[propagation]\n%s\n' "$MK1" "$kv" > prop.toml
    try "\`[propagation] $kv\`" "$BIN" reproduce prop.toml --out o --quiet
done
printf '[source]\nwavelength = 1.55\n%s' "$SMALL" > ir.toml
err="$("$LIB" library ir.toml -o ir.h5 --test-solver 2>&1 >/dev/null | grep warning)"
row 'SRN (constant 2.74) at 1.55 µm' "0 (warning)" "$err"

# files that lie
"$LIB" library s.toml -o lib.h5 --test-solver --quiet
"$LIB" library export lib.h5 --pitch 0.3 -o lum.h5 > /dev/null
head -c "$(($(stat -c %s lib.h5) / 2))" lib.h5 > trunc.h5
echo hello > text.h5
: > empty.h5
for f in trunc.h5 text.h5 empty.h5 lum.h5; do
    try "\`library info\` on $f" "$LIB" library info $f
    try "\`propagate\` on $f" "$BIN" propagate $f --quiet
    try "\`layout --library\` $f" "$BIN" layout sl.toml --library $f -o x --quiet
done
try '`propagate` on a library file (wrong kind)' "$BIN" propagate lib.h5 --quiet
"$BIN" layout sl.toml --library lib.h5 -o lay --quiet 2>/dev/null
try '`library info` on a layout file (wrong kind)' "$LIB" library info lay.h5
row 'library edited: T = 1.5 at one cell (tests/robustness.rs)' 2 'lib.h5: cell radius 0.05 µm, pitch 0.3 µm (height 1 µm, wavelength 0.685 µm, x polarisation): T + R = 1.500000 exceeds 1: a passive cell cannot carry more power than it receives (the file was edited or is corrupt; recompute it with `metalens library`)'
row 'library edited: t = NaN, R < 0, \|t\| × 3 (tests/robustness.rs)' 2 'the same, with "non-finite value (t = NaN+…)", "negative power (T = …, R = -0.2)", "the zeroth order carries n_exit/n_inc·|t|² = …, more than the transmittance T = …"'

# interrupted and concurrent runs
"$LIB" library s.toml -o int.h5 --test-solver --test-solver-delay-ms 250 --threads 1 --quiet 2> int.err &
pid=$!
sleep 1.2
kill -INT $pid
wait $pid
code=$?
row 'Ctrl-C during a sweep' "$code" "$(cat int.err); left: $(ls -A | grep -c '\.tmp') temp files, $(ls int.h5.ckpt 2>/dev/null)"
"$LIB" library s.toml -o int0.h5 --test-solver --test-solver-delay-ms 3000 --threads 1 --quiet 2> int0.err &
pid=$!
sleep 0.5
kill -INT $pid
wait $pid
code=$?
row 'Ctrl-C before the first cell is finished' "$code" "$(cat int0.err); checkpoint left: $(ls int0.h5.ckpt 2>/dev/null || echo none)"
"$LIB" library s.toml -o lk.h5 --test-solver --test-solver-delay-ms 250 --threads 1 --quiet 2> /dev/null &
pid=$!
sleep 0.5
try 'a second process writing the same library' "$LIB" library s.toml -o lk.h5 --test-solver
kill -INT $pid
wait $pid
echo 2147483000 > .lk2.h5.lock
try 'a stale lock (its process was killed -9)' "$LIB" library s.toml -o lk2.h5 --test-solver --quiet
mkdir -p full
err="$(cd full && sh -c "trap '' XFSZ; ulimit -f 16; exec $LIB library ../s.toml -o lib.h5 --test-solver --quiet" 2>&1)"
code=$?
row 'disk full (file-size limit of 16 KiB)' "$code" "$err; left in the folder: $(ls -A full | tr '\n' ' ')"
mkdir -p out/mk1 sub
echo "built-in design mk1" > out/mk1/.design-source
printf '%s' "$MK1" > sub/mk1.toml
try '`reproduce sub/mk1.toml` after the built-in mk1' "$BIN" reproduce sub/mk1.toml --quiet

{
    echo "# Robustness: every bad input and fault tried (issue 14)"
    echo
    echo "Generated by \`validation/robustness.sh\` against the release binary (metalens $("$BIN" --version | cut -d' ' -f2))."
    echo "Each failure is one line on stderr, raised before any heavy work; exit code 2 for bad input,"
    echo "1 for an I/O or numerical failure, 130 for Ctrl-C. The same cases are tests in"
    echo "\`tests/robustness.rs\` (and the older \`tests/*_cli.rs\`, \`tests/layout_bad_input.rs\`)."
    echo
    echo "| # | input or fault | exit | message now |"
    echo "|---|---|---|---|"
    printf '%s' "$ROWS"
} > "$OUT"
echo "wrote $OUT ($n cases)"
