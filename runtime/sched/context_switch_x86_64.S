// x86-64 System V context switch. Layout pinned by context.hpp (kSavedWords).
// void fsan_switch_context(void** save_sp /*rdi*/, void* to_sp /*rsi*/)
        .text
        .globl  fsan_switch_context
        .type   fsan_switch_context,@function
        .p2align 4
fsan_switch_context:
        .cfi_startproc
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        subq    $8, %rsp
        stmxcsr (%rsp)
        fnstcw  4(%rsp)
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        ldmxcsr (%rsp)
        fldcw   4(%rsp)
        addq    $8, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        // pop+jmp, not ret: the return-stack predictor never matches across
        // stacks, and a mispredicted ret costs more than the whole switch.
        popq    %r8
        jmp     *%r8
        .cfi_endproc
        .size   fsan_switch_context,.-fsan_switch_context

// First code of a new fiber: r12 = entry, r13 = arg. The unwinder stops here
// (return address undefined), so stack walks end at the fiber's base.
        .globl  fsan_context_trampoline
        .type   fsan_context_trampoline,@function
        .p2align 4
fsan_context_trampoline:
        .cfi_startproc
        .cfi_undefined rip
        xorl    %ebp, %ebp
        movq    %r13, %rdi
        callq   *%r12
        ud2
        .cfi_endproc
        .size   fsan_context_trampoline,.-fsan_context_trampoline

        .section .note.GNU-stack,"",@progbits
