"""The README tour's posting set-up step, as Ada does it in the sandbox's Slack console: open
the modal, pick each choice by what it reads, search the contact, save, mark ready."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from playwright.async_api import Page, expect

Shoot = Callable[[Page, str], Awaitable[None]]
Say = Callable[[Page, str], Awaitable[None]]

CHOICES = {
    "Sales account": "200 · Sales",
    "Sales tax rate": "20% (VAT on Income) (20%)",
    "Payments: Cash (Cash)": "620 · Cash clearing",
    "Payments: Card (Card)": "615 · Card clearing",
    "Payments: Gift card (GiftCard)": "090 · Business Bank Account",
    "Payments: Voucher (Voucher)": "615 · Card clearing",
    "Rounding / variance account": "860 · Rounding",
}
"""Each select of S001's set-up (its label) and the option the README says to pick."""
CONTACT = "Contact for the daily sales invoice"


async def set_up_posting(console: Page, setup: str, say: Say, shoot: Shoot) -> None:
    """`setup` is the README's `/xero setup …` command for S001; ends with the modal closed."""
    await say(console, setup)
    modal = console.get_by_role("dialog", name="Posting set-up")
    await expect(modal).to_be_visible()
    await expect(modal.get_by_label("Sales account")).to_be_visible()  # Xero has answered
    await expect(modal.get_by_text("posting set-up 0 of 7 done")).to_be_visible()
    for label, choice in CHOICES.items():
        await modal.get_by_label(label).select_option(label=choice)
    contact = modal.get_by_role("combobox", name=CONTACT)
    await contact.fill("Cash")
    found = modal.get_by_role("listbox", name=f"Options for {CONTACT}")
    await found.get_by_role("option", name="Cash Sales", exact=True).click()
    await expect(contact).to_have_value("Cash Sales")
    await modal.get_by_role("radio", name="Draft").check()
    await shoot(console, "setup-form")

    await modal.get_by_role("button", name="Save").click()
    await expect(modal.get_by_text("Posting set-up saved for")).to_be_visible()
    await expect(modal.get_by_text("posting set-up complete")).to_be_visible()
    await shoot(console, "setup-saved")
    await modal.get_by_role("button", name="Mark ready for sync").click()
    await expect(modal.get_by_text("S001 is ready for sync.")).to_be_visible()
    await shoot(console, "ready-for-sync")
    await modal.get_by_role("button", name="Done").click()
    await expect(modal).to_be_hidden()
