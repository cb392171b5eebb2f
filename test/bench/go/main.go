// Go reference for the fibersan benchmark suite (test/bench). The same five
// workloads as runtime_bench (C++) and boost_fiber_bench, one JSON line each:
//   {"name":..., "ns_per_op":..., "peak_rss_kb":..., "gomaxprocs":..., "ops":...}
// Flags: -mintime (seconds per measurement), -reps (take the median),
//        -only NAME (run one workload), -skynet-rss (run skynet once, print
//        its time and this process's peak RSS, nothing else).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"syscall"
	"time"
)

func peakRSSKB() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return int64(ru.Maxrss) // kilobytes on Linux
}

// 1. spawn+join one goroutine.
func spawnJoin(n int) {
	done := make(chan struct{}, 1)
	for i := 0; i < n; i++ {
		go func() { done <- struct{}{} }()
		<-done
	}
}

// 2. unbuffered ping-pong round trip.
func pingPong(n int) {
	ping := make(chan int)
	pong := make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	for i := 0; i < n; i++ {
		ping <- i
		<-pong
	}
	close(ping)
}

// 3. buffered (cap 128) throughput, one producer, one consumer; per element.
func bufferedThroughput(n int) {
	ch := make(chan int, 128)
	go func() {
		for i := 0; i < n; i++ {
			ch <- i
		}
	}()
	for i := 0; i < n; i++ {
		<-ch
	}
}

// 4. select over two ready buffered channels; the received value is put back
// into the channel it came from so both stay ready.
func selectTwoReady(n int) {
	a := make(chan int, 1)
	b := make(chan int, 1)
	a <- 1
	b <- 2
	for i := 0; i < n; i++ {
		select {
		case v := <-a:
			a <- v
		case v := <-b:
			b <- v
		}
	}
}

// 5. skynet: 1,000,000 leaves, fan-out 10, fresh unbuffered channel per node.
func skynet(c chan int64, num, size, div int64) {
	if size == 1 {
		c <- num
		return
	}
	rc := make(chan int64)
	for i := int64(0); i < div; i++ {
		sub := num + i*(size/div)
		go skynet(rc, sub, size/div, div)
	}
	var sum int64
	for i := int64(0); i < div; i++ {
		sum += <-rc
	}
	c <- sum
}

const skynetSize = 1000000
const skynetWant = int64(skynetSize) * (skynetSize - 1) / 2

func skynetOnce(n int) {
	for i := 0; i < n; i++ {
		c := make(chan int64)
		go skynet(c, 0, skynetSize, 10)
		if got := <-c; got != skynetWant {
			fmt.Fprintf(os.Stderr, "skynet: got %d want %d\n", got, skynetWant)
			os.Exit(1)
		}
	}
}

type workload struct {
	name string
	fn   func(n int)
}

var workloads = []workload{
	{"spawn_join", spawnJoin},
	{"pingpong_unbuffered", pingPong},
	{"chan_buffered_128", bufferedThroughput},
	{"select_two_ready", selectTwoReady},
	{"skynet_1M", skynetOnce},
}

// measure: grows n until one run takes at least minTime, then returns ns/op
// of that run.
func measure(fn func(int), minTime time.Duration) (float64, int) {
	n := 1
	for {
		runtime.GC()
		start := time.Now()
		fn(n)
		d := time.Since(start)
		if d >= minTime || n >= 1<<30 {
			return float64(d.Nanoseconds()) / float64(n), n
		}
		next := n * 10
		if d > 0 {
			// aim 20% past minTime, at most 100x growth per step
			est := int(float64(n) * 1.2 * float64(minTime) / float64(d))
			if est < next*10 {
				next = est
			}
		}
		if next <= n {
			next = n + 1
		}
		n = next
	}
}

func emit(m map[string]interface{}) {
	b, _ := json.Marshal(m)
	fmt.Println(string(b))
}

func main() {
	minTime := flag.Float64("mintime", 0.5, "seconds per measurement")
	reps := flag.Int("reps", 3, "repetitions; the median is reported")
	only := flag.String("only", "", "run only this workload")
	skynetRSS := flag.Bool("skynet-rss", false, "run skynet once in this process, print time and peak RSS")
	flag.Parse()

	if *skynetRSS {
		start := time.Now()
		skynetOnce(1)
		d := time.Since(start)
		emit(map[string]interface{}{
			"name": "skynet_1M", "mode": "rss", "ns_per_op": float64(d.Nanoseconds()),
			"peak_rss_kb": peakRSSKB(), "gomaxprocs": runtime.GOMAXPROCS(0),
		})
		return
	}

	for _, w := range workloads {
		if *only != "" && *only != w.name {
			continue
		}
		var samples []float64
		ops := 0
		for r := 0; r < *reps; r++ {
			ns, n := measure(w.fn, time.Duration(*minTime*float64(time.Second)))
			samples = append(samples, ns)
			ops = n
		}
		sort.Float64s(samples)
		emit(map[string]interface{}{
			"name": w.name, "ns_per_op": samples[len(samples)/2],
			"peak_rss_kb": peakRSSKB(), "gomaxprocs": runtime.GOMAXPROCS(0),
			"ops": ops, "reps": *reps,
		})
	}
}
