// Go reference for the fibersan benchmark suite (test/bench). The same
// workloads as runtime_bench (C++) and boost_fiber_bench (which has no
// context or ticker workloads), one JSON line each:
//   {"name":..., "ns_per_op":..., "peak_rss_kb":..., "gomaxprocs":..., "ops":...}
// Flags: -mintime (seconds per measurement), -reps (take the median),
//        -only NAME (run one workload), -skynet-rss (run skynet once, print
//        its time and this process's peak RSS, nothing else).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
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

// 6. context cancel tree: 10,000 contexts (a root, then fan-out 10, each
// made with its Done() channel and its CancelFunc kept), cancel the root,
// receive from every Done(), then call every CancelFunc (defer cancel()).
const ctxTreeSize = 10000

func contextCancelTree(n int) {
	ctxs := make([]context.Context, 0, ctxTreeSize)
	cancels := make([]context.CancelFunc, 0, ctxTreeSize)
	dones := make([]<-chan struct{}, 0, ctxTreeSize)
	for it := 0; it < n; it++ {
		ctxs, cancels, dones = ctxs[:0], cancels[:0], dones[:0]
		for i := 0; i < ctxTreeSize; i++ {
			parent := context.Background()
			if i > 0 {
				parent = ctxs[(i-1)/10]
			}
			c, cancel := context.WithCancel(parent)
			dones = append(dones, c.Done())
			ctxs = append(ctxs, c)
			cancels = append(cancels, cancel)
		}
		cancels[0]()
		for _, d := range dones {
			<-d
		}
		for _, cancel := range cancels {
			cancel()
		}
	}
}

// 7. 1,000 goroutines each sleep 1 ms ten times while a 1 ms Ticker ticks
// into a consumer goroutine; the ticker is stopped once every sleeper is done.
const sleepers = 1000
const sleepsEach = 10

func ticker1msSleepers(n int) {
	for it := 0; it < n; it++ {
		t := time.NewTicker(time.Millisecond)
		stop := make(chan struct{})
		counted := make(chan int64, 1)
		go func() {
			var ticks int64
			for {
				select {
				case <-t.C:
					ticks++
				case <-stop:
					counted <- ticks
					return
				}
			}
		}()
		done := make(chan struct{}, sleepers)
		for i := 0; i < sleepers; i++ {
			go func() {
				for j := 0; j < sleepsEach; j++ {
					time.Sleep(time.Millisecond)
				}
				done <- struct{}{}
			}()
		}
		for i := 0; i < sleepers; i++ {
			<-done
		}
		t.Stop()
		close(stop)
		<-counted
	}
}

// 8. contended sync.Mutex: k goroutines each do n/k lock-increment-unlock.
// Per pair.
func mutexContended(k int) func(n int) {
	return func(n int) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		counter := 0
		wg.Add(k)
		for f := 0; f < k; f++ {
			ops := n / k
			if f < n%k {
				ops++
			}
			go func(ops int) {
				for j := 0; j < ops; j++ {
					mu.Lock()
					counter++
					mu.Unlock()
				}
				wg.Done()
			}(ops)
		}
		wg.Wait()
		if counter != n {
			fmt.Fprintf(os.Stderr, "mutex: counter %d want %d\n", counter, n)
			os.Exit(1)
		}
	}
}

// 9. read-mostly sync.RWMutex: 4 goroutines share n operations; every 20th
// is a write (Lock, increment), the rest reads (RLock, load). Per operation.
var rwSink int64

func rwMutexReadMostly(n int) {
	const k = 4
	var rw sync.RWMutex
	var wg sync.WaitGroup
	value := int64(0)
	wg.Add(k)
	for f := 0; f < k; f++ {
		ops := n / k
		if f < n%k {
			ops++
		}
		go func(ops int) {
			seen := int64(0)
			for j := 0; j < ops; j++ {
				if j%20 == 0 {
					rw.Lock()
					value++
					rw.Unlock()
				} else {
					rw.RLock()
					seen += value
					rw.RUnlock()
				}
			}
			atomic.AddInt64(&rwSink, seen)
			wg.Done()
		}(ops)
	}
	wg.Wait()
}

// 10. sync.WaitGroup fan-out: Add(1000), 1,000 goroutines each Done(), Wait().
// Per fan-out.
func waitGroupFanOut(n int) {
	const fanOut = 1000
	for i := 0; i < n; i++ {
		var wg sync.WaitGroup
		wg.Add(fanOut)
		for f := 0; f < fanOut; f++ {
			go wg.Done()
		}
		wg.Wait()
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
	{"context_cancel_tree_10k", contextCancelTree},
	{"ticker_1ms_1k_sleepers", ticker1msSleepers},
	{"mutex_contended_2", mutexContended(2)},
	{"mutex_contended_4", mutexContended(4)},
	{"rwmutex_read_mostly_4", rwMutexReadMostly},
	{"waitgroup_fanout_1k", waitGroupFanOut},
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
