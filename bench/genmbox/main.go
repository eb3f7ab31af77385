// Command genmbox writes a deterministic mailbox for the benchmarks: a unix
// mbox as DSMTP and UW imapd keep it (a "From sender ctime" line before each
// message, a blank line after it, body lines starting with "From " quoted
// as ">From "), filled with messages that look like a working mailbox.
//
//	genmbox -n 2000 -seed 1 -o mail.mbox
//
// The same seed and count always give the same bytes, so two servers (or two
// runs) are measured on the same mailbox. The mix, by count: about half short
// plain-text notes (0.4-4 KB), a quarter HTML newsletters sent as
// multipart/alternative (3-16 KB), an eighth replies that quote the message
// they answer, and the rest multipart/mixed messages carrying a base64
// attachment (6-64 KB before encoding): about 10 KB a message on average. Headers are those
// of delivered mail (Return-Path, Received, Date in several zones, From, To,
// often Cc, Message-ID, MIME headers, some encoded-word subjects); some
// subjects contain "budget", the word bench/driver searches for.
package main

import (
	"bufio"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"time"
)

func main() {
	n := flag.Int("n", 2000, "number of messages")
	seed := flag.Uint64("seed", 1, "seed: the same seed and -n give the same file")
	out := flag.String("o", "-", "output file (- for standard output)")
	crlf := flag.Bool("crlf", false, "end the lines inside messages with CRLF (the From lines and separators stay LF)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: genmbox [-n COUNT] [-seed N] [-crlf] [-o FILE]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 || *n < 0 {
		flag.Usage()
		os.Exit(2)
	}
	var w io.Writer = os.Stdout
	var f *os.File
	if *out != "-" {
		var err error
		if f, err = os.Create(*out); err != nil {
			fmt.Fprintf(os.Stderr, "genmbox: %v\n", err)
			os.Exit(1)
		}
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	g := newGenerator(*seed, *crlf)
	total, err := g.write(bw, *n)
	if err == nil {
		err = bw.Flush()
	}
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "genmbox: write %s: %v\n", *out, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "genmbox: %d messages, %d bytes (seed %d)\n", *n, total, *seed)
}

// generator holds the random source and the state that runs across
// messages (the clock, the previous Message-IDs for replies).
type generator struct {
	r     *rand.Rand
	eol   string
	clock time.Time
	ids   []string // Message-IDs written so far, for In-Reply-To
}

func newGenerator(seed uint64, crlf bool) *generator {
	eol := "\n"
	if crlf {
		eol = "\r\n"
	}
	return &generator{
		r:     rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15^seed)),
		eol:   eol,
		clock: time.Date(2026, time.January, 5, 7, 58, 0, 0, time.UTC),
	}
}

// write writes n messages and returns the number of bytes written.
func (g *generator) write(w *bufio.Writer, n int) (int64, error) {
	var total int64
	for i := 0; i < n; i++ {
		m := g.message(i)
		k, err := w.WriteString(m)
		total += int64(k)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

var (
	people = []string{"Ada Brennan", "Bruno Ito", "Chiara Lund", "Dmitri Okafor", "Elif Sandoval",
		"Farid Novak", "Greta Holm", "Hugo Adeyemi", "Ines Marchetti", "Jonas Weller",
		"Kiri Tanaka", "Lotte Fairbairn", "Mateo Quist", "Noor Haddad", "Oskar Lindqvist",
		"Priya Raman", "Quentin Dubois", "Rosa Whitcombe", "Sven Achterberg", "Talia Moreau"}
	domains = []string{"example.com", "example.net", "example.org", "corp.example.com",
		"lists.example.org", "mail.example.net"}
	zones = []*time.Location{time.UTC, time.FixedZone("", -5*3600), time.FixedZone("", 3600),
		time.FixedZone("", 2*3600), time.FixedZone("", 10*3600), time.FixedZone("", 5*3600+1800)}
	subjects = []string{
		"Budget for the %d quarter", "Revised budget figures (v%d)", "Minutes of the meeting on %d",
		"Server maintenance on night %d", "Invoice %d", "Your parcel %d is on its way",
		"Agenda for workshop %d", "Lunch on Thursday?", "Holiday rota %d", "Backup report %d",
		"Ticket #%d: cannot log in", "Draft contract, round %d", "Photos from the offsite",
		"Welcome aboard!", "Reminder: timesheets due", "Question about order %d",
		"Newsletter no. %d", "Réunion budgétaire n°%d", "Übersicht Kalenderwoche %d",
	}
	vocabulary = strings.Fields(`a about after again all also an and any are as at back be
		because been before being below between both but by can could day did do does down
		each even every few first for from get give go good great had has have here how if in
		into is it its just keep know last late less like little long look made make many
		may more most much must need never new next no not now of off often on once one only
		or other our out over own part people place plan point put quite rather really right
		same say see seem several shall she should show since so some soon still such take
		than that the their them then there these they thing think this those though through
		time to today together too under until up upon us use very want was way we week well
		were what when where which while who why will with without work would year yet you
		your account agenda approval archive backup budget calendar client contract deadline
		delivery draft estimate feedback figures forecast invoice ledger mailbox meeting
		minutes office order outage payment printer project proposal quarter release report
		review schedule server shipment spreadsheet supplier team ticket timesheet travel
		update vendor warehouse`)
)

func (g *generator) pick(list []string) string { return list[g.r.IntN(len(list))] }

// between returns a random int in [lo, hi].
func (g *generator) between(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }

func (g *generator) address() (name, addr string) {
	name = g.pick(people)
	first, last, _ := strings.Cut(strings.ToLower(name), " ")
	return name, fmt.Sprintf("%s.%s@%s", first, last, g.pick(domains))
}

func (g *generator) mailbox() string {
	name, addr := g.address()
	if g.r.IntN(5) == 0 {
		return addr
	}
	return fmt.Sprintf("%s <%s>", name, addr)
}

func (g *generator) subject() string {
	s := g.pick(subjects)
	if strings.Contains(s, "%d") {
		s = fmt.Sprintf(s, g.between(1, 9999))
	}
	for _, c := range s {
		if c > 0x7f { // RFC 2047 encoded word
			if g.r.IntN(2) == 0 {
				return "=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte(s)) + "?="
			}
			return "=?UTF-8?Q?" + qEncode(s) + "?="
		}
	}
	return s
}

func qEncode(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case c == ' ':
			b.WriteByte('_')
		case c > 0x7f || c == '=' || c == '?' || c == '_':
			fmt.Fprintf(&b, "=%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// paragraph returns lines of at most ~72 columns holding about words words.
func (g *generator) paragraph(words int) []string {
	var lines []string
	var line strings.Builder
	sentence := 0
	for i := 0; i < words; i++ {
		w := g.pick(vocabulary)
		if sentence == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		sentence++
		if sentence > 6 && g.r.IntN(8) == 0 || i == words-1 {
			w += "."
			sentence = 0
		} else if g.r.IntN(14) == 0 {
			w += ","
		}
		if line.Len() > 0 && line.Len()+1+len(w) > 72 {
			lines = append(lines, line.String())
			line.Reset()
		}
		if line.Len() > 0 {
			line.WriteByte(' ')
		}
		line.WriteString(w)
	}
	if line.Len() > 0 {
		lines = append(lines, line.String())
	}
	return lines
}

// text returns paragraphs, blank-line separated, of about size bytes.
func (g *generator) text(size int) []string {
	var lines []string
	n := 0
	for n < size {
		if len(lines) > 0 {
			lines = append(lines, "")
		}
		p := g.paragraph(g.between(15, 80))
		for _, l := range p {
			n += len(l) + 1
		}
		lines = append(lines, p...)
	}
	// Now and then a line that must be quoted in an mbox.
	if g.r.IntN(40) == 0 {
		lines = append(lines, "", "From what I heard, the figures are final.")
	}
	return lines
}

func (g *generator) boundary(kind string) string {
	return fmt.Sprintf("----=_%s_%016x", kind, g.r.Uint64())
}

// message returns message i with its From line and the blank line after it.
func (g *generator) message(i int) string {
	g.clock = g.clock.Add(time.Duration(g.between(20, 900)) * time.Second)
	date := g.clock.In(zones[g.r.IntN(len(zones))])
	_, sender := g.address()
	fromName, fromAddr := g.address()
	id := fmt.Sprintf("<%d.%08x@%s>", date.Unix(), g.r.Uint32(), g.pick(domains))

	var h []string
	h = append(h,
		"Return-Path: <"+sender+">",
		fmt.Sprintf("Received: from mx%d.%s (mx%d.%s [192.0.2.%d])", g.between(1, 4), g.pick(domains), g.between(1, 4), g.pick(domains), g.between(1, 254)),
		fmt.Sprintf("\tby mail.example.com (DSMTP) with ESMTP id %010X", g.r.Uint64()>>24),
		"\tfor <"+g.pick([]string{"alice", "bench", "ops"})+"@example.com>; "+g.clock.Format(time.RFC1123Z),
		fmt.Sprintf("Received: from [198.51.100.%d] by mx.%s; %s", g.between(1, 254), g.pick(domains), date.Format(time.RFC1123Z)),
		"Date: "+date.Format(time.RFC1123Z),
		fmt.Sprintf("From: %s <%s>", fromName, fromAddr),
	)
	to := []string{g.mailbox()}
	for k := g.r.IntN(5) - 2; k > 0; k-- {
		to = append(to, g.mailbox())
	}
	h = append(h, "To: "+strings.Join(to, ",\n\t"))
	if g.r.IntN(4) == 0 {
		h = append(h, "Cc: "+g.mailbox())
	}
	if g.r.IntN(3) == 0 {
		h = append(h, "X-Mailer: "+g.pick([]string{"Mutt 2.2.9", "Thunderbird 115.5", "Apple Mail (2.3774)", "Outlook 16.0"}))
	}
	h = append(h, "Message-ID: "+id, "MIME-Version: 1.0")

	var body []string
	switch k := g.r.IntN(100); {
	case k < 50: // a short note
		h = append(h, "Subject: "+g.subject(), "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit")
		body = g.text(g.between(400, 4000))
		body = append(body, "", "-- ", fromName)
	case k < 75: // a newsletter: text and HTML
		b := g.boundary("alt")
		h = append(h, "Subject: "+g.subject(), `Content-Type: multipart/alternative; boundary="`+b+`"`)
		plain := g.text(g.between(1500, 8000))
		body = append(body, "This is a multi-part message in MIME format.", "", "--"+b,
			"Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", "")
		body = append(body, plain...)
		body = append(body, "", "--"+b, "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: 8bit", "",
			"<!DOCTYPE html>", "<html><head><title>"+fromName+"</title></head><body>")
		para := false
		for _, l := range plain {
			switch {
			case l == "" && para:
				body = append(body, "</p>")
				para = false
			case l == "":
			case !para:
				body = append(body, "<p>"+l)
				para = true
			default:
				body = append(body, l)
			}
		}
		if para {
			body = append(body, "</p>")
		}
		body = append(body, "</body></html>", "", "--"+b+"--")
	case k < 88: // a reply quoting the message it answers
		subj := g.subject()
		if len(g.ids) > 0 {
			parent := g.ids[g.r.IntN(len(g.ids))]
			h = append(h, "In-Reply-To: "+parent, "References: "+parent)
		}
		h = append(h, "Subject: Re: "+subj, "Content-Type: text/plain; charset=utf-8")
		body = g.text(g.between(200, 1500))
		_, quoted := g.address()
		body = append(body, "", "On "+date.Add(-time.Duration(g.between(600, 86400))*time.Second).Format("Mon, 2 Jan 2006 at 15:04")+", "+quoted+" wrote:")
		for _, l := range g.text(g.between(400, 3000)) {
			body = append(body, strings.TrimRight("> "+l, " "))
		}
	default: // an attachment
		b := g.boundary("mix")
		name := fmt.Sprintf("%s-%d.%s", g.pick([]string{"report", "scan", "minutes", "figures"}), g.between(1, 999), g.pick([]string{"pdf", "xlsx", "zip"}))
		h = append(h, "Subject: "+g.subject(), `Content-Type: multipart/mixed; boundary="`+b+`"`)
		body = append(body, "--"+b, "Content-Type: text/plain; charset=utf-8", "")
		body = append(body, g.text(g.between(200, 1200))...)
		body = append(body, "", "--"+b,
			`Content-Type: application/octet-stream; name="`+name+`"`,
			"Content-Transfer-Encoding: base64",
			`Content-Disposition: attachment; filename="`+name+`"`, "")
		raw := make([]byte, g.between(6<<10, 64<<10))
		for j := range raw {
			raw[j] = byte(g.r.Uint32())
		}
		enc := base64.StdEncoding.EncodeToString(raw)
		for len(enc) > 76 {
			body = append(body, enc[:76])
			enc = enc[76:]
		}
		body = append(body, enc, "--"+b+"--")
	}
	g.ids = append(g.ids, id)

	var m strings.Builder
	envelope := g.clock.Format("Mon Jan _2 15:04:05 2006")
	m.WriteString("From " + sender + " " + envelope + "\n")
	for _, l := range h {
		// A folded header is one string with "\n\t" inside.
		m.WriteString(strings.ReplaceAll(l, "\n", g.eol) + g.eol)
	}
	m.WriteString(g.eol)
	for _, l := range body {
		if strings.HasPrefix(l, "From ") { // as DSMTP and UW quote them
			l = ">" + l
		}
		m.WriteString(l + g.eol)
	}
	m.WriteString("\n")
	return m.String()
}
