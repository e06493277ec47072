"""The raw material of an emulated organisation's books: a UK chart of accounts, UK VAT rates,
tracking categories and the words contact names are made of.

Modelled on the chart a new UK Xero organisation starts with, plus what a shop using the bot
adds (clearing accounts for card and cash takings, a gift card liability), so the posting
set-up sees the mix a real customer has: bank accounts with and without codes, system
accounts, archived accounts and rates, an archived tracking category. `books` turns it into
one organisation's books, varied by a seed so two organisations do not look identical.
"""

from __future__ import annotations

from typing import NamedTuple


class AccountTemplate(NamedTuple):
    code: str
    """Empty for an account without a code: Xero allows that for bank accounts."""
    name: str
    type: str
    tax_type: str
    status: str = "ACTIVE"
    payments: bool = False
    """EnablePaymentsToAccount: payments may be made to or from it (clearing accounts)."""
    system: str = ""
    """Xero's SystemAccount, for accounts Xero itself keeps (debtors, VAT, rounding...)."""


A = AccountTemplate
ARCHIVED = "ARCHIVED"

CLASS_OF_TYPE = {
    "BANK": "ASSET", "CURRENT": "ASSET", "FIXED": "ASSET", "INVENTORY": "ASSET",
    "NONCURRENT": "ASSET", "PREPAYMENT": "ASSET",
    "CURRLIAB": "LIABILITY", "LIABILITY": "LIABILITY", "TERMLIAB": "LIABILITY",
    "EQUITY": "EQUITY",
    "DEPRECIATN": "EXPENSE", "DIRECTCOSTS": "EXPENSE", "EXPENSE": "EXPENSE",
    "OVERHEADS": "EXPENSE",
    "OTHERINCOME": "REVENUE", "REVENUE": "REVENUE", "SALES": "REVENUE",
}  # fmt: skip
"""Xero derives an account's Class from its Type."""

CHART = (
    A("090", "Business Bank Account", "BANK", "NONE"),
    A("091", "Business Savings Account", "BANK", "NONE"),
    A("", "PayPal", "BANK", "NONE"),
    A("200", "Sales", "REVENUE", "OUTPUT2"),
    A("205", "Sales - Market Stall", "REVENUE", "OUTPUT2", ARCHIVED),
    A("260", "Other Revenue", "REVENUE", "OUTPUT2"),
    A("270", "Interest Income", "REVENUE", "NONE"),
    A("280", "Gift Card Breakage", "OTHERINCOME", "NONE"),
    A("310", "Cost of Goods Sold", "DIRECTCOSTS", "INPUT2"),
    A("320", "Direct Wages", "DIRECTCOSTS", "NONE"),
    A("325", "Direct Expenses", "DIRECTCOSTS", "INPUT2"),
    A("330", "Card Processing Fees", "DIRECTCOSTS", "EXEMPTINPUT"),
    A("400", "Advertising & Marketing", "OVERHEADS", "INPUT2"),
    A("401", "Audit & Accountancy fees", "OVERHEADS", "INPUT2"),
    A("404", "Bank Fees", "OVERHEADS", "EXEMPTINPUT"),
    A("408", "Cleaning", "OVERHEADS", "INPUT2"),
    A("412", "Consulting", "OVERHEADS", "INPUT2"),
    A("416", "Depreciation Expense", "DEPRECIATN", "NONE"),
    A("420", "Entertainment-100% business", "OVERHEADS", "INPUT2"),
    A("424", "Entertainment - Non deductible", "OVERHEADS", "NONE"),
    A("425", "Postage, Freight & Courier", "OVERHEADS", "INPUT2"),
    A("429", "General Expenses", "OVERHEADS", "INPUT2"),
    A("430", "Sundry Expenses (old)", "OVERHEADS", "INPUT2", ARCHIVED),
    A("433", "Insurance", "OVERHEADS", "EXEMPTINPUT"),
    A("437", "Interest Paid", "OVERHEADS", "EXEMPTINPUT"),
    A("441", "Legal Expenses", "OVERHEADS", "INPUT2"),
    A("445", "Light, Power, Heating", "OVERHEADS", "RRINPUT"),
    A("449", "Motor Vehicle Expenses", "OVERHEADS", "INPUT2"),
    A("453", "Office Expenses", "OVERHEADS", "INPUT2"),
    A("461", "Printing & Stationery", "OVERHEADS", "INPUT2"),
    A("463", "IT Software and Consumables", "OVERHEADS", "INPUT2"),
    A("465", "Rates", "OVERHEADS", "NONE"),
    A("469", "Rent", "OVERHEADS", "EXEMPTINPUT"),
    A("473", "Repairs & Maintenance", "OVERHEADS", "INPUT2"),
    A("477", "Salaries", "OVERHEADS", "NONE"),
    A("478", "Directors' Remuneration", "OVERHEADS", "NONE"),
    A("479", "Employers National Insurance", "OVERHEADS", "NONE"),
    A("480", "Staff Training", "OVERHEADS", "INPUT2"),
    A("481", "Staff Entertainment", "OVERHEADS", "INPUT2"),
    A("482", "Pensions Costs", "OVERHEADS", "NONE"),
    A("483", "Medical Insurance", "OVERHEADS", "EXEMPTINPUT"),
    A("485", "Subscriptions", "OVERHEADS", "INPUT2"),
    A("489", "Telephone & Internet", "OVERHEADS", "INPUT2"),
    A("493", "Travel - National", "OVERHEADS", "INPUT2"),
    A("494", "Travel - International", "OVERHEADS", "ZERORATEDINPUT"),
    A("497", "Bank Revaluations", "OVERHEADS", "NONE", system="BANKCURRENCYGAIN"),
    A("498", "Unrealised Currency Gains", "OVERHEADS", "NONE", system="UNREALISEDCURRENCYGAIN"),
    A("499", "Realised Currency Gains", "OVERHEADS", "NONE", system="REALISEDCURRENCYGAIN"),
    A("500", "Corporation Tax", "OVERHEADS", "NONE"),
    A("610", "Accounts Receivable", "CURRENT", "NONE", system="DEBTORS"),
    A("611", "Less Provision for Doubtful Debts", "CURRENT", "NONE"),
    A("615", "Card clearing", "CURRENT", "NONE", payments=True),
    A("616", "Card clearing (old terminal)", "CURRENT", "NONE", ARCHIVED, payments=True),
    A("620", "Cash clearing", "CURRENT", "NONE", payments=True),
    A("625", "Prepayments", "CURRENT", "NONE"),
    A("630", "Inventory", "INVENTORY", "NONE"),
    A("640", "Directors' Loan Account", "CURRENT", "NONE"),
    A("710", "Office Equipment", "FIXED", "INPUT2"),
    A("711", "Less Accumulated Depreciation on Office Equipment", "FIXED", "NONE"),
    A("720", "Computer Equipment", "FIXED", "INPUT2"),
    A("721", "Less Accumulated Depreciation on Computer Equipment", "FIXED", "NONE"),
    A("740", "Buildings", "FIXED", "NONE"),
    A("741", "Less Accumulated Depreciation on Buildings", "FIXED", "NONE"),
    A("750", "Leasehold Improvements", "FIXED", "INPUT2"),
    A("751", "Less Accumulated Depreciation on Leasehold Improvements", "FIXED", "NONE"),
    A("760", "Motor Vehicles", "FIXED", "INPUT2"),
    A("761", "Less Accumulated Depreciation on Motor Vehicles", "FIXED", "NONE"),
    A("770", "Intangibles", "FIXED", "NONE"),
    A("771", "Less Accumulated Amortisation on Intangibles", "FIXED", "NONE"),
    A("800", "Accounts Payable", "CURRLIAB", "NONE", system="CREDITORS"),
    A("801", "Unpaid Expense Claims", "CURRLIAB", "NONE", system="UNPAIDEXPCLM"),
    A("805", "Accrued Liabilities", "CURRLIAB", "NONE"),
    A("810", "Income in Advance", "CURRLIAB", "NONE"),
    A("814", "Wages Payable - Payroll", "CURRLIAB", "NONE", system="WAGEPAYABLES"),
    A("820", "VAT", "CURRLIAB", "NONE", system="GST"),
    A("825", "PAYE Payable", "CURRLIAB", "NONE"),
    A("826", "NIC Payable", "CURRLIAB", "NONE"),
    A("830", "Provision for Corporation Tax", "CURRLIAB", "NONE"),
    A("835", "Gift card liability", "CURRLIAB", "NONE"),
    A("840", "Historical Adjustment", "CURRLIAB", "NONE", system="HISTORICAL"),
    A("850", "Suspense", "CURRLIAB", "NONE"),
    A("858", "Pensions Payable", "CURRLIAB", "NONE"),
    A("860", "Rounding", "CURRLIAB", "NONE", system="ROUNDING"),
    A("877", "Tracking Transfers", "CURRLIAB", "NONE", system="TRACKINGTRANSFERS"),
    A("900", "Loan", "TERMLIAB", "NONE"),
    A("910", "Hire Purchase Loan", "TERMLIAB", "NONE"),
    A("950", "Capital - Ordinary Shares", "EQUITY", "NONE"),
    A("960", "Retained Earnings", "EQUITY", "NONE", system="RETAINEDEARNINGS"),
    A("970", "Owner A Funds Introduced", "EQUITY", "NONE"),
    A("980", "Owner A Drawings", "EQUITY", "NONE"),
)
"""Every organisation has these (their ids differ per organisation)."""

EXTRA_ACCOUNTS = tuple(
    A(code, name, kind, tax)
    for code, name, kind, tax in (
        ("092", "Business Credit Card", "BANK", "NONE"),
        ("093", "Petty Cash", "BANK", "NONE"),
        ("210", "Sales - Online Shop", "REVENUE", "OUTPUT2"),
        ("211", "Sales - Wholesale", "REVENUE", "OUTPUT2"),
        ("212", "Sales - Repairs", "REVENUE", "OUTPUT2"),
        ("213", "Sales - Workshops", "REVENUE", "EXEMPTOUTPUT"),
        ("214", "Sales - Zero Rated Goods", "REVENUE", "ZERORATEDOUTPUT"),
        ("215", "Sales - Hire", "REVENUE", "OUTPUT2"),
        ("216", "Delivery Charges", "REVENUE", "OUTPUT2"),
        ("265", "Commission Received", "OTHERINCOME", "OUTPUT2"),
        ("266", "Grants Received", "OTHERINCOME", "NONE"),
        ("311", "Freight Inwards", "DIRECTCOSTS", "INPUT2"),
        ("312", "Packaging", "DIRECTCOSTS", "INPUT2"),
        ("313", "Stock Shrinkage", "DIRECTCOSTS", "NONE"),
        ("314", "Subcontractors", "DIRECTCOSTS", "INPUT2"),
        ("402", "Window Displays", "OVERHEADS", "INPUT2"),
        ("403", "Shop Fittings (small)", "OVERHEADS", "INPUT2"),
        ("406", "Merchant Terminal Rental", "OVERHEADS", "INPUT2"),
        ("409", "Waste Collection", "OVERHEADS", "INPUT2"),
        ("410", "Security", "OVERHEADS", "INPUT2"),
        ("413", "Recruitment", "OVERHEADS", "INPUT2"),
        ("414", "Uniforms", "OVERHEADS", "INPUT2"),
        ("426", "Charitable Donations", "OVERHEADS", "NONE"),
        ("427", "Sponsorship", "OVERHEADS", "INPUT2"),
        ("428", "Trade Show Costs", "OVERHEADS", "INPUT2"),
        ("442", "Licences & Permits", "OVERHEADS", "EXEMPTINPUT"),
        ("446", "Water Rates", "OVERHEADS", "ZERORATEDINPUT"),
        ("450", "Parking", "OVERHEADS", "INPUT2"),
        ("454", "Kitchen & Staff Room", "OVERHEADS", "INPUT2"),
        ("462", "Website Hosting", "OVERHEADS", "INPUT2"),
        ("464", "POS Software", "OVERHEADS", "INPUT2"),
        ("474", "Equipment Hire", "OVERHEADS", "INPUT2"),
        ("486", "Professional Memberships", "OVERHEADS", "EXEMPTINPUT"),
        ("490", "Mobile Phones", "OVERHEADS", "INPUT2"),
        ("495", "Accommodation", "OVERHEADS", "INPUT2"),
        ("612", "Other Debtors", "CURRENT", "NONE"),
        ("613", "Deposits Paid", "CURRENT", "NONE"),
        ("617", "Voucher clearing", "CURRENT", "NONE"),
        ("722", "Shop Fittings", "FIXED", "INPUT2"),
        ("806", "Other Creditors", "CURRLIAB", "NONE"),
        ("807", "Customer Deposits", "CURRLIAB", "NONE"),
        ("836", "Store credit liability", "CURRLIAB", "NONE"),
        ("920", "Directors' Loans (long term)", "TERMLIAB", "NONE"),
    )
)
"""What organisations add over the years: each organisation has a seeded share of these."""

EXTRA_ACCOUNT_COUNT = 32
EXTRA_ARCHIVED_SHARE = 0.15


class TaxRateTemplate(NamedTuple):
    tax_type: str
    name: str
    rate: float
    report_tax_type: str
    status: str = "ACTIVE"


T = TaxRateTemplate
TAX_RATES = (
    T("OUTPUT2", "20% (VAT on Income)", 20.0, "OUTPUT"),
    T("INPUT2", "20% (VAT on Expenses)", 20.0, "INPUT"),
    T("RROUTPUT", "5% (VAT on Income)", 5.0, "OUTPUT"),
    T("RRINPUT", "5% (VAT on Expenses)", 5.0, "INPUT"),
    T("ZERORATEDOUTPUT", "Zero Rated Income", 0.0, "OUTPUT"),
    T("ZERORATEDINPUT", "Zero Rated Expenses", 0.0, "INPUT"),
    T("EXEMPTOUTPUT", "Exempt Income", 0.0, "EXEMPTOUTPUT"),
    T("EXEMPTINPUT", "Exempt Expenses", 0.0, "EXEMPTINPUT"),
    T("NONE", "No VAT", 0.0, "NONE"),
    T("CAPEXINPUT2", "20% (VAT on Capital Purchases)", 20.0, "INPUT"),
    T("CAPEXOUTPUT2", "20% (VAT on Capital Sales)", 20.0, "OUTPUT"),
    T("ECZROUTPUTSERVICES", "Zero Rated EC Services", 0.0, "ECOUTPUTSERVICES"),
    T("REVERSECHARGES", "Reverse Charge Expenses (20%)", 20.0, "INPUT"),
    T("OUTPUT", "17.5% (VAT on Income)", 17.5, "OUTPUT", ARCHIVED),
    T("INPUT", "17.5% (VAT on Expenses)", 17.5, "INPUT", ARCHIVED),
    T("SROUTPUT", "15% (VAT on Income)", 15.0, "OUTPUT", ARCHIVED),
    T("TAX001", "12.5% Hospitality (temporary)", 12.5, "OUTPUT", "DELETED"),
)
"""UK VAT rates: the current ones, the old 17.5% and 15% (archived) and a deleted custom one."""

REGIONS = ("North", "South", "East", "West", "Midlands")
ARCHIVED_REGIONS = ("Central",)
TOWNS = (
    "Leeds", "York", "Hull", "Bradford", "Harrogate", "Sheffield", "Durham", "Lincoln",
    "Chester", "Bath", "Exeter", "Norwich", "Oxford", "Cambridge", "Brighton", "Online",
)  # fmt: skip
STORE_COUNT = 5
ARCHIVED_CATEGORY = ("Department (old)", ("Bikes", "Clothing", "Workshop"))

CASH_SALES = "Cash Sales"
CONTACT_COUNT = 2000
ARCHIVED_CONTACT_SHARE = 0.03
FIRST_NAMES = (
    "Alex", "Amira", "Ben", "Chloe", "Dev", "Ella", "Finn", "Grace", "Hamza", "Isla", "Jack",
    "Kiran", "Leah", "Mo", "Nina", "Owen", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Una",
    "Vik", "Wren", "Yusuf", "Zoe", "Olive", "Marek", "Siobhan", "Tom",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Bashir", "Clarke", "Dunn", "Evans", "Fraser", "Green", "Hughes", "Iqbal",
    "Jones", "Khan", "Lewis", "Murphy", "Nowak", "O'Brien", "Patel", "Quayle", "Roberts",
    "Singh", "Taylor", "Usman", "Vaughan", "Walsh", "Xu", "Young", "Zielinski", "Ahmed",
    "Brennan", "Cohen", "Davies",
)  # fmt: skip
COMPANY_WORDS = (
    "Acorn", "Beacon", "Bramble", "Copper", "Dale", "Ember", "Fenwick", "Granite", "Harbour",
    "Heron", "Iron", "Juniper", "Kestrel", "Larch", "Maple", "Northgate", "Oak", "Pennine",
    "Quarry", "Riverside", "Saffron", "Thistle", "Union", "Valley", "Willow", "Yew", "Zenith",
    "Castle", "Meadow", "Summit",
)  # fmt: skip
COMPANY_KINDS = (
    "Bakery", "Cycles", "Supplies", "Foods", "Logistics", "Print", "Electrical", "Plumbing",
    "Textiles", "Coffee", "Brewing", "Packaging", "Signs", "Timber", "Cleaning", "Security",
    "Outdoor", "Wholesale", "Repairs", "Design",
)  # fmt: skip
COMPANY_ENDINGS = ("Ltd", "Limited", "& Co", "Group", "LLP", "")
