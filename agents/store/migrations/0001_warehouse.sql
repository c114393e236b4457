-- The demo warehouse: schema, constraints, indexes and the comments a language model reads.
CREATE SCHEMA IF NOT EXISTS warehouse;
COMMENT ON SCHEMA warehouse IS 'Sales, customers, products, support and HR data of Lumen & Co, 2017-2025.';

CREATE TABLE IF NOT EXISTS warehouse.customers (
    customer_id int PRIMARY KEY,
    name text NOT NULL,
    segment text NOT NULL CHECK (segment IN ('Enterprise', 'Mid-Market', 'SMB')),
    country text NOT NULL,
    region text NOT NULL CHECK (region IN ('France', 'EMEA', 'Americas', 'APAC')),
    signup_date date NOT NULL
);
COMMENT ON TABLE warehouse.customers IS 'One row per customer company.';
COMMENT ON COLUMN warehouse.customers.customer_id IS 'Customer identifier.';
COMMENT ON COLUMN warehouse.customers.name IS 'Company name of the customer.';
COMMENT ON COLUMN warehouse.customers.segment IS 'Customer size segment: Enterprise, Mid-Market or SMB.';
COMMENT ON COLUMN warehouse.customers.country IS 'Country of the customer''s headquarters.';
COMMENT ON COLUMN warehouse.customers.region IS 'Sales region of the customer: France, EMEA (Europe, Middle East and Africa outside France), Americas or APAC.';
COMMENT ON COLUMN warehouse.customers.signup_date IS 'Date the customer signed its first contract; new customers are counted by this date.';

CREATE TABLE IF NOT EXISTS warehouse.products (
    product_id int PRIMARY KEY,
    name text UNIQUE NOT NULL,
    category text NOT NULL CHECK (category IN ('Software', 'Hardware', 'Services', 'Training')),
    unit_price numeric(10, 2) NOT NULL,
    unit_cost numeric(10, 2) NOT NULL,
    launched_on date NOT NULL
);
COMMENT ON TABLE warehouse.products IS 'Product catalogue.';
COMMENT ON COLUMN warehouse.products.product_id IS 'Product identifier.';
COMMENT ON COLUMN warehouse.products.name IS 'Product name.';
COMMENT ON COLUMN warehouse.products.category IS 'Product category: Software, Hardware, Services or Training.';
COMMENT ON COLUMN warehouse.products.unit_price IS 'Current list price per unit in EUR.';
COMMENT ON COLUMN warehouse.products.unit_cost IS 'Cost per unit in EUR, used for gross margin.';
COMMENT ON COLUMN warehouse.products.launched_on IS 'Date the product became available.';

CREATE TABLE IF NOT EXISTS warehouse.sales_reps (
    rep_id int PRIMARY KEY,
    name text NOT NULL,
    region text NOT NULL CHECK (region IN ('France', 'EMEA', 'Americas', 'APAC')),
    hired_on date NOT NULL
);
COMMENT ON TABLE warehouse.sales_reps IS 'Sales representatives.';
COMMENT ON COLUMN warehouse.sales_reps.rep_id IS 'Sales rep identifier.';
COMMENT ON COLUMN warehouse.sales_reps.name IS 'Full name of the sales rep.';
COMMENT ON COLUMN warehouse.sales_reps.region IS 'Region the rep covers.';
COMMENT ON COLUMN warehouse.sales_reps.hired_on IS 'Hiring date of the rep.';

CREATE TABLE IF NOT EXISTS warehouse.orders (
    order_id int PRIMARY KEY,
    customer_id int NOT NULL REFERENCES warehouse.customers (customer_id),
    rep_id int NULL REFERENCES warehouse.sales_reps (rep_id),
    order_date date NOT NULL,
    status text NOT NULL CHECK (status IN ('completed', 'cancelled', 'refunded')),
    channel text NOT NULL CHECK (channel IN ('online', 'direct', 'partner'))
);
COMMENT ON TABLE warehouse.orders IS 'One row per order. Revenue counts only completed orders.';
COMMENT ON COLUMN warehouse.orders.order_id IS 'Order identifier.';
COMMENT ON COLUMN warehouse.orders.customer_id IS 'Customer who placed the order.';
COMMENT ON COLUMN warehouse.orders.rep_id IS 'Sales rep of the order; NULL for online orders.';
COMMENT ON COLUMN warehouse.orders.order_date IS 'Date the order was placed; revenue is dated by it.';
COMMENT ON COLUMN warehouse.orders.status IS 'completed, cancelled or refunded; only completed orders count as revenue.';
COMMENT ON COLUMN warehouse.orders.channel IS 'Sales channel: online, direct or partner.';
CREATE INDEX IF NOT EXISTS orders_order_date_idx ON warehouse.orders (order_date);
CREATE INDEX IF NOT EXISTS orders_customer_idx ON warehouse.orders (customer_id);
CREATE INDEX IF NOT EXISTS orders_rep_idx ON warehouse.orders (rep_id);

CREATE TABLE IF NOT EXISTS warehouse.order_items (
    order_id int NOT NULL REFERENCES warehouse.orders (order_id),
    line_no smallint NOT NULL,
    product_id int NOT NULL REFERENCES warehouse.products (product_id),
    quantity int NOT NULL CHECK (quantity > 0),
    unit_price numeric(10, 2) NOT NULL,
    discount numeric(4, 3) NOT NULL CHECK (discount BETWEEN 0 AND 0.5),
    PRIMARY KEY (order_id, line_no)
);
COMMENT ON TABLE warehouse.order_items IS 'Order lines. Line revenue = quantity * unit_price * (1 - discount).';
COMMENT ON COLUMN warehouse.order_items.order_id IS 'Order the line belongs to.';
COMMENT ON COLUMN warehouse.order_items.line_no IS 'Line number within the order.';
COMMENT ON COLUMN warehouse.order_items.product_id IS 'Product sold on this line.';
COMMENT ON COLUMN warehouse.order_items.quantity IS 'Units sold on this line.';
COMMENT ON COLUMN warehouse.order_items.unit_price IS 'List price per unit in EUR at the time of the order, before discount.';
COMMENT ON COLUMN warehouse.order_items.discount IS 'Discount rate on the line, between 0 and 0.5 (0.1 = 10%).';
CREATE INDEX IF NOT EXISTS order_items_product_idx ON warehouse.order_items (product_id);

CREATE TABLE IF NOT EXISTS warehouse.revenue_targets (
    region text NOT NULL CHECK (region IN ('France', 'EMEA', 'Americas', 'APAC')),
    year int NOT NULL,
    quarter smallint NOT NULL CHECK (quarter BETWEEN 1 AND 4),
    target_amount numeric(14, 2) NOT NULL,
    PRIMARY KEY (region, year, quarter)
);
COMMENT ON TABLE warehouse.revenue_targets IS 'Quarterly revenue targets per region, in EUR.';
COMMENT ON COLUMN warehouse.revenue_targets.region IS 'Region of the target.';
COMMENT ON COLUMN warehouse.revenue_targets.year IS 'Calendar year of the target.';
COMMENT ON COLUMN warehouse.revenue_targets.quarter IS 'Calendar quarter of the target, 1 to 4.';
COMMENT ON COLUMN warehouse.revenue_targets.target_amount IS 'Revenue target in EUR for the region and quarter.';

CREATE TABLE IF NOT EXISTS warehouse.support_tickets (
    ticket_id int PRIMARY KEY,
    customer_id int NOT NULL REFERENCES warehouse.customers (customer_id),
    opened_at timestamptz NOT NULL,
    closed_at timestamptz NULL,
    priority text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    csat smallint NULL CHECK (csat BETWEEN 1 AND 5)
);
COMMENT ON TABLE warehouse.support_tickets IS 'Customer support tickets.';
COMMENT ON COLUMN warehouse.support_tickets.ticket_id IS 'Ticket identifier.';
COMMENT ON COLUMN warehouse.support_tickets.customer_id IS 'Customer who opened the ticket.';
COMMENT ON COLUMN warehouse.support_tickets.opened_at IS 'When the ticket was opened; tickets are counted by this time.';
COMMENT ON COLUMN warehouse.support_tickets.closed_at IS 'When the ticket was closed; NULL while open.';
COMMENT ON COLUMN warehouse.support_tickets.priority IS 'Priority: low, normal, high or urgent.';
COMMENT ON COLUMN warehouse.support_tickets.csat IS 'Customer satisfaction score 1 to 5 given at closing; NULL when not answered.';
CREATE INDEX IF NOT EXISTS support_tickets_opened_idx ON warehouse.support_tickets (opened_at);
CREATE INDEX IF NOT EXISTS support_tickets_customer_idx ON warehouse.support_tickets (customer_id);

CREATE TABLE IF NOT EXISTS warehouse.employees (
    employee_id int PRIMARY KEY,
    name text NOT NULL,
    department text NOT NULL,
    country text NOT NULL,
    hired_on date NOT NULL,
    salary_eur numeric(10, 2) NOT NULL
);
COMMENT ON TABLE warehouse.employees IS 'Employees of Lumen & Co. Restricted: HR only.';
COMMENT ON COLUMN warehouse.employees.employee_id IS 'Employee identifier.';
COMMENT ON COLUMN warehouse.employees.name IS 'Full name of the employee.';
COMMENT ON COLUMN warehouse.employees.department IS 'Department of the employee.';
COMMENT ON COLUMN warehouse.employees.country IS 'Country of employment.';
COMMENT ON COLUMN warehouse.employees.hired_on IS 'Hiring date.';
COMMENT ON COLUMN warehouse.employees.salary_eur IS 'Gross yearly salary in EUR.';
