package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/term"
)

// redrawEvery bounds how often the bar is redrawn: a scan decides
// thousands of objects a second, a terminal needs a few frames.
const redrawEvery = 100 * time.Millisecond

// progress reports a scan's advance on stderr. On a terminal it draws a bar
// rewritten in place (at most every redrawEvery, and always when a kind or
// the last file is done), then leaves one plain line; otherwise (CI logs)
// it writes only plain count lines: one per kind of a cluster scan, one per
// tenth of the files of a manifest scan. A nil progress reports nothing.
type progress struct {
	w     io.Writer
	live  bool
	width int
	now   func() time.Time
	start time.Time
	drawn time.Time // of the bar on screen; zero when there is none

	files, filesDone int // of a manifest scan
	objects, denied  int
	tenth            int // of the files, last written as a plain line
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, width: 80, now: time.Now}
	if f := terminal(w); f != nil {
		p.live = true
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 20 {
			p.width = cols
		}
	}
	return p
}

// startFiles begins a manifest scan of n files.
func (p *progress) startFiles(n int) {
	if p == nil {
		return
	}
	p.files, p.start = n, p.now()
}

// object counts one decided object.
func (p *progress) object(denied bool) {
	if p == nil {
		return
	}
	p.objects++
	if denied {
		p.denied++
	}
}

// fileDone counts one file whose objects were all decided.
func (p *progress) fileDone() {
	if p == nil {
		return
	}
	p.filesDone++
	last := p.filesDone == p.files
	if p.live {
		if last || p.now().Sub(p.drawn) >= redrawEvery {
			p.draw(float64(p.filesDone)/float64(p.files), fmt.Sprintf("%d/%d files, %d objects, %d denied, %s", p.filesDone, p.files, p.objects, p.denied, p.rate()))
		}
		if !last {
			return
		}
		p.clear()
	}
	if t := p.filesDone * 10 / p.files; t > p.tenth || last {
		p.tenth = t
		fmt.Fprintf(p.w, "scanned %d/%d files: %d objects, %d denied\n", p.filesDone, p.files, p.objects, p.denied)
	}
}

// update shows the running count of one kind of a cluster scan; remaining
// is the apiserver's estimate of the objects left to list (nil: unknown).
func (p *progress) update(what string, objects, denied int, remaining *int64) {
	if p == nil || !p.live || p.now().Sub(p.drawn) < redrawEvery {
		return
	}
	status := fmt.Sprintf("%s: %d objects, %d denied", what, objects, denied)
	if remaining == nil {
		p.draw(-1, status)
		return
	}
	total := objects + int(*remaining)
	p.draw(float64(objects)/float64(max(total, 1)), fmt.Sprintf("%s: %d/%d objects, %d denied", what, objects, total, denied))
}

// done ends one kind of a cluster scan with a plain line.
func (p *progress) done(what string, objects, denied int) {
	if p == nil {
		return
	}
	p.clear()
	fmt.Fprintf(p.w, "scanned %s: %d objects, %d denied\n", what, objects, denied)
}

// clear removes the bar, before anything else is written to the terminal.
func (p *progress) clear() {
	if p == nil || !p.live || p.drawn.IsZero() {
		return
	}
	fmt.Fprint(p.w, "\r\x1b[K")
	p.drawn = time.Time{}
}

func (p *progress) rate() string {
	secs := p.now().Sub(p.start).Seconds()
	if secs <= 0 {
		return "- objects/s"
	}
	return fmt.Sprintf("%.0f objects/s", float64(p.objects)/secs)
}

// draw rewrites the bar line: a bar filled to fraction (none when it is
// negative: the total is unknown) and the status, cut to the terminal's
// width so the line never wraps.
func (p *progress) draw(fraction float64, status string) {
	line := status
	if fraction >= 0 {
		const cells = 24
		fraction = min(fraction, 1)
		full := int(fraction * cells)
		bar := strings.Repeat("=", full)
		if full < cells {
			bar += ">" + strings.Repeat(" ", cells-full-1)
		}
		line = fmt.Sprintf("[%s] %3.0f%% %s", bar, fraction*100, status)
	}
	if len(line) > p.width-1 {
		line = line[:p.width-1]
	}
	fmt.Fprint(p.w, "\r\x1b[K"+line)
	p.drawn = p.now()
}
