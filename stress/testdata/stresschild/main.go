// Command stresschild is the child process of the stress suite, for the
// loads a shell cannot make. The suite builds it once and names it in its
// Procfiles:
//
//	stresschild chatty RATE LONG
//	    writes RATE lines a second (0: as fast as it can; in 5 bursts a
//	    second otherwise), each with one write(2), until SIGTERM; every LONGth line (0: none) is 100 KiB or
//	    more, longer than a pipe holds. Lines go to stdout, every fifth to
//	    stderr, each stream numbered from 0 on its own (see package
//	    stress/internal/lines, which the suite checks them with). On
//	    SIGTERM it writes "PS o end N" and "PS e end N", N the next
//	    number of that stream, and exits 0.
//	stresschild bigline BYTES
//	    writes BYTES bytes of lines.Big without a newline, then "\n",
//	    then "big done\n", and sleeps until SIGTERM.
//
// PS is the instance's name, from the environment, so every line says whose
// it is.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/proctor-run/proctor/stress/internal/lines"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "chatty":
		if len(os.Args) != 4 {
			usage()
		}
		rate, err1 := strconv.Atoi(os.Args[2])
		long, err2 := strconv.Atoi(os.Args[3])
		if err1 != nil || err2 != nil {
			usage()
		}
		err = chatty(os.Getenv("PS"), rate, long)
	case "bigline":
		if len(os.Args) != 3 {
			usage()
		}
		n, err1 := strconv.ParseInt(os.Args[2], 10, 64)
		if err1 != nil {
			usage()
		}
		err = bigline(n)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "stresschild:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: stresschild chatty RATE LONG | bigline BYTES")
	os.Exit(2)
}

func chatty(name string, rate, long int) error {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	// Lines come in bursts, burstsPerSec a second: a wakeup per line
	// would make 500 children alone saturate a small machine.
	var tick <-chan time.Time
	burst := 1
	if rate > 0 {
		perSec := min(rate, burstsPerSec)
		burst = rate / perSec
		t := time.NewTicker(time.Second / time.Duration(perSec))
		defer t.Stop()
		tick = t.C
	}
	var seq [2]int // next number of stdout, stderr
	files := [2]*os.File{os.Stdout, os.Stderr}
	var buf []byte
	for n := 0; ; {
		if tick != nil {
			select {
			case <-tick:
			case <-term:
				return end(name, seq)
			}
		} else {
			select {
			case <-term:
				return end(name, seq)
			default:
			}
		}
		for range burst {
			s := lines.StreamOf(n)
			buf = lines.Append(buf[:0], name, s, seq[s], lines.IsLong(n, long))
			if _, err := files[s].Write(buf); err != nil {
				return err
			}
			seq[s]++
			n++
		}
	}
}

// burstsPerSec is how often a chatty child with a rate wakes up to write.
const burstsPerSec = 1

// end writes the last line of each stream, which tells how many came before.
func end(name string, seq [2]int) error {
	if _, err := fmt.Fprintf(os.Stdout, "%s o end %d\n", name, seq[0]); err != nil {
		return err
	}
	_, err := fmt.Fprintf(os.Stderr, "%s e end %d\n", name, seq[1])
	return err
}

func bigline(n int64) error {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	buf := make([]byte, 1<<20)
	for off := int64(0); off < n; {
		k := min(int64(len(buf)), n-off)
		for i := range k {
			buf[i] = lines.Big(off + i)
		}
		if _, err := os.Stdout.Write(buf[:k]); err != nil {
			return err
		}
		off += k
	}
	if _, err := os.Stdout.WriteString("\nbig done\n"); err != nil {
		return err
	}
	<-term
	return nil
}
