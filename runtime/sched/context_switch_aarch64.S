// AArch64 AAPCS64 context switch. Layout pinned by context.hpp (kSavedWords).
// void fsan_switch_context(void** save_sp /*x0*/, void* to_sp /*x1*/)
        .text
        .globl  fsan_switch_context
        .type   fsan_switch_context,%function
        .p2align 4
fsan_switch_context:
        .cfi_startproc
        sub     sp, sp, #176
        stp     d8, d9, [sp, #0]
        stp     d10, d11, [sp, #16]
        stp     d12, d13, [sp, #32]
        stp     d14, d15, [sp, #48]
        stp     x19, x20, [sp, #64]
        stp     x21, x22, [sp, #80]
        stp     x23, x24, [sp, #96]
        stp     x25, x26, [sp, #112]
        stp     x27, x28, [sp, #128]
        stp     x29, x30, [sp, #160]
        mov     x9, sp
        str     x9, [x0]
        mov     sp, x1
        ldp     d8, d9, [sp, #0]
        ldp     d10, d11, [sp, #16]
        ldp     d12, d13, [sp, #32]
        ldp     d14, d15, [sp, #48]
        ldp     x19, x20, [sp, #64]
        ldp     x21, x22, [sp, #80]
        ldp     x23, x24, [sp, #96]
        ldp     x25, x26, [sp, #112]
        ldp     x27, x28, [sp, #128]
        ldp     x29, x30, [sp, #160]
        add     sp, sp, #176
        ret
        .cfi_endproc
        .size   fsan_switch_context,.-fsan_switch_context

// First code of a new fiber: x19 = entry, x20 = arg.
        .globl  fsan_context_trampoline
        .type   fsan_context_trampoline,%function
        .p2align 4
fsan_context_trampoline:
        .cfi_startproc
        .cfi_undefined x30
        mov     x29, #0
        mov     x0, x20
        blr     x19
        brk     #0
        .cfi_endproc
        .size   fsan_context_trampoline,.-fsan_context_trampoline

        .section .note.GNU-stack,"",@progbits
