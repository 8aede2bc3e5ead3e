"""Labels of the management report in English and Chinese, and number formats per language.

Every visible label of the report is a key of :data:`LABELS` (both languages hold the same keys; a test checks it).
Category values from the scores (segments, lifecycle stages, tiers, actions, quarantine reasons) are translated via
:data:`VALUES` when known and shown as they are otherwise. Free text from the data (feature descriptions, reason
codes) is shown as written.
"""

from __future__ import annotations

import math

__all__ = [
    "LABELS",
    "LANGUAGES",
    "VALUES",
    "format_count",
    "format_money",
    "format_percent",
    "format_points",
    "t",
    "tv",
]

LANGUAGES: tuple[str, ...] = ("en", "zh")

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "html_lang": "en",
        "title": "Customer report",
        "subtitle": "Churn risk, customer value and recommended actions",
        "as_of": "Data as of",
        "scored_at": "Scored on",
        "models_used": "Models",
        "currency_note": "Amounts in {currency}",
        "toc": "Contents",
        # KPIs
        "kpi_customers": "Customers",
        "kpi_customers_note": "scored in this run",
        "kpi_active": "Active customers",
        "kpi_active_note": "{share} of all; excludes prospects and churned",
        "kpi_churn_rate": "Expected churn rate",
        "kpi_churn_rate_note": "of active customers, next {days} days",
        "kpi_churn_rate_last_year": "; a year earlier {rate} churned",
        "kpi_churn_rate_note_outlook": "of customers with an order in the last year, next {days} days",
        "msg_outlook_last_year": (
            "The model expects {rate} of the customers with an order in the last year to place no order in the "
            "next {days} days; in the same season a year earlier {last} did not. Churn moves with the calendar: compare like with like."
        ),
        "msg_outlook_short_history": (
            "The data covers less than a year and a {days}-day horizon: the model has not seen this season "
            "before, so its expected churn rate may be off by the season's swing. Read it as a ranking first."
        ),
        "kpi_revenue_at_risk": "Revenue at risk",
        "kpi_revenue_at_risk_note": "expected 12-month value × churn risk",
        "kpi_expected_value": "Expected 12-month value",
        "kpi_expected_value_note": "all customers, next 12 months",
        "kpi_high_risk": "High-risk customers",
        "kpi_high_risk_note": "churn risk of {threshold} or more",
        "vs_previous": "{delta} vs previous",
        # sections
        "sec_summary": "Key findings",
        "sec_movement": "What changed since the previous scoring",
        "sec_segments": "Customer segments",
        "sec_lifecycle": "Lifecycle stages",
        "sec_risk": "Churn risk",
        "sec_drivers": "What drives churn",
        "sec_model": "How reliable are the predictions?",
        "sec_actions": "Action list",
        "sec_top_customers": "High-value customers at risk",
        "sec_quality": "Data quality",
        "sec_glossary": "How to read this report",
        # section intros
        "intro_segments": "Customers grouped by how recently, how often and how much they buy (RFM segments).",
        "intro_lifecycle": "Where customers are in their relationship with us.",
        "intro_risk": "Churn risk is the probability that a customer makes no purchase in the next {days} days.",
        "intro_drivers": "The customer behaviours that most influence the churn prediction, across all customers.",
        "intro_actions": "Recommended actions, with the number of customers and the value at stake for each.",
        "intro_top_customers": "Customers with high expected value and a churn risk of {threshold} or more, "
        "ordered by revenue at risk. Ids are pseudonymised; look them up in the CRM through the secure id map.",
        "intro_quality": "Rows that failed validation were set aside (quarantined) and duplicate customer records "
        "were merged before scoring.",
        "intro_movement": "Compared with the scoring of {date}.",
        "no_previous": "No previous scoring was given, so no changes are shown.",
        "no_top_customers": "No high-value customer is above the risk threshold.",
        "no_drivers": "The scoring run did not record churn drivers.",
        "no_quality": "The scoring run did not record data-quality counts.",
        # tables
        "col_segment": "Segment",
        "col_stage": "Stage",
        "col_customers": "Customers",
        "col_share_customers": "Share of customers",
        "col_churn_risk": "Avg. churn risk",
        "col_high_risk": "High risk",
        "col_expected_value_12m": "Expected 12-month value",
        "col_revenue_at_risk": "Revenue at risk",
        "col_share_revenue_at_risk": "Share of revenue at risk",
        "col_action": "Recommended action",
        "col_customer_id": "Customer id",
        "col_churn_probability": "Churn risk",
        "col_reason_1": "Main reason",
        "col_table": "Table",
        "col_reason": "Reason",
        "col_rows": "Rows",
        "col_feature": "Feature",
        "col_psi": "Shift (PSI)",
        "col_status": "Status",
        "col_from": "From segment",
        "col_to": "To segment",
        "col_previous": "Previous",
        "col_current": "Now",
        "col_change": "Change",
        "col_measure": "Measure",
        "col_value": "Value",
        "col_driver": "Driver",
        "col_influence": "Share of influence",
        "total": "Total",
        # model metric names
        "metric_roc_auc": "Ranking quality (ROC AUC; 0.5 = random, 1 = perfect)",
        "metric_pr_auc": "Precision-recall AUC",
        "metric_brier": "Brier score (lower is better)",
        "metric_ece": "Calibration error (lower is better)",
        "metric_lift_top10": "Lift in the top 10%",
        "metric_capture_top10": "Churners found in the top 10%",
        "metric_base_rate": "Actual rate in the test period (churn or repurchase)",
        "metric_test_cutoff": "Test period starts",
        "metric_model": "Model (version)",
        "churn_model": "Churn model",
        "repurchase_model": "Repurchase model",
        # data quality
        "dq_rows_in": "Rows received",
        "dq_rows_scored": "Customers scored",
        "dq_rows_quarantined": "Rows quarantined",
        "dq_after_as_of": "Rows dated after the scoring date (later sign-ups, orders, interactions, campaign sends; not quarantined)",
        "dq_duplicates": "Duplicate records merged",
        "dq_source_lines_in": "Lines in the export",
        "dq_source_without_customer": "Lines without a customer id",
        "dq_source_revenue_without_customer": "Revenue of lines without a customer id",
        "dq_source_duplicates": "Exact duplicate lines",
        "dq_source_excluded": "Source rows excluded by the mapping's filter",
        "dq_by_table": "Quarantined rows by table",
        "dq_by_reason": "Quarantined rows by reason",
        "dq_drift": "Input drift since training",
        "dq_not_scored": "Customer records without a score",
        # movement
        "mv_churn_rate": "Expected churn rate",
        "mv_revenue_at_risk": "Revenue at risk",
        "mv_high_risk": "High-risk customers",
        "mv_transitions": "Largest moves between segments",
        # charts
        "chart_segment_sizes": "Customers by segment",
        "chart_segment_risk": "Average churn risk by segment",
        "chart_segment_revenue": "Revenue at risk by segment",
        "chart_lifecycle": "Customers by lifecycle stage",
        "chart_lifecycle_revenue": "Revenue at risk by lifecycle stage",
        "chart_value_risk": "Customers by value tier and churn risk",
        "chart_risk_hist": "How churn risk is spread across customers",
        "chart_drivers": "Top drivers of churn",
        "chart_calibration": "Predicted vs actual churn (calibration)",
        "chart_actions": "Revenue at risk by recommended action",
        "chart_movement": "Change in customers per segment",
        "axis_customers": "Customers",
        "axis_churn_risk": "Average churn risk (%)",
        "axis_revenue": "Revenue at risk ({currency})",
        "axis_risk_band": "Churn risk",
        "axis_value_tier": "Value tier",
        "axis_churn_probability": "Churn risk (%)",
        "axis_influence": "Share of influence on the prediction (%)",
        "axis_predicted": "Predicted churn risk (%)",
        "axis_observed": "Actual churn rate (%)",
        "axis_change": "Change in customers",
        "legend_overall": "All customers: {value}",
        "legend_perfect": "Perfect calibration",
        "legend_threshold": "High risk from {threshold}",
        "legend_model": "Model",
        "legend_customers_n": "{n} customers",
        # glossary
        "gl_churn": "Churn risk: the model's probability that a customer buys nothing in the next {days} days. "
        "Churn means leaving: no purchase within {days} days of the scoring date, for a customer who bought in "
        "the year before it. {days} days is the churn model's horizon, set when it was trained: 90 days unless "
        "the training config says otherwise, or, with horizon_days: auto, the gap within which 90% of the "
        "customers' repeat purchases happen, rounded to a month (a longer silence is leaving, not a pause).",
        "gl_value": "Expected 12-month value: what a customer is expected to spend in the next 12 months.",
        "gl_risk": "Revenue at risk: expected 12-month value multiplied by churn risk, summed over customers.",
        "gl_lift": "Lift: how many times more churners the model finds among its top-risk customers than a "
        "random pick would.",
        "gl_calibration": "Calibration: whether predicted risks match what actually happened.",
        "gl_psi": "Shift (PSI): how much an input has changed since the model was trained; above 0.25 is a "
        "large shift.",
        "footer": "Generated by custml from pseudonymised scores; no names, e-mails or phone numbers are included.",
        # messages
        "msg_active_high_risk": "{n} active customers ({share} of active customers) have a churn risk of {threshold} "
        "or more; together they are expected to spend {value} in the next 12 months. Active means still a "
        "customer: bought within the last year and not past their own buying rhythm, with a probability of 50% "
        "or more of still being a customer (a Pareto/NBD model of their purchase history).",
        "msg_lapsed_high_risk": "{n} more high-risk customers have most likely already left (not active by the "
        "rule above); an offer would mostly reach no one there.",
        "msg_top_risk_segment": "The “{segment}” segment carries the most revenue at risk: {value} "
        "({share} of the total).",
        "msg_high_value_at_risk": "{n} high-value customers have a churn risk of {threshold} or more and hold "
        "{value} of revenue at risk; they are listed by id in the action list.",
        "msg_first_action": "Start with “{action}”: {n} customers, {value} of revenue at risk.",
        "msg_actions": "The action list targets {n} customers holding {value} of revenue at risk ({share} of the total).",
        "msg_no_model_meta": "The scoring run did not record model quality.",
        "msg_lift": "The top 10% of customers by risk hold {capture} of the churners — {lift} as many as a "
        "random 10% would.",
        "msg_capture": "The top 10% of customers by risk hold {capture} of the churners.",
        "msg_lift_ceiling": "Because {rate} of customers churn, even a perfect model could put at most {max} of "
        "the churners in its top 10% (a lift of {lift}).",
        "msg_lift_only": "The top 10% of customers by risk contain {lift} as many churners as a random 10%.",
        "msg_calibration_good": "Predicted risks are well calibrated: on average they are within {gap} of the "
        "churn rate that actually followed.",
        "msg_calibration_ok": "Predicted risks are roughly calibrated: on average they are {gap} away from the "
        "churn rate that actually followed.",
        "msg_calibration_poor": "Predicted risks are off by {gap} on average: use them to rank customers rather "
        "than as exact probabilities.",
        "msg_auc_strong": "The model ranks customers well (ROC AUC {auc}).",
        "msg_auc_useful": "The model ranks customers usefully but not perfectly (ROC AUC {auc}).",
        "msg_auc_weak": "The model ranks customers only weakly (ROC AUC {auc}); treat its risks with caution.",
        "msg_base_rate": "In the test period, {rate} of customers churned.",
        "msg_base_rate_at": "In the test period starting {date}, {rate} of customers churned.",
        "msg_top_driver": "The strongest signal of churn is “{driver}” ({share} of the model's attention).",
        "msg_top3_drivers": "The top three drivers together account for {share} of the model's attention.",
        "msg_quarantined": "{n} rows ({share} of the input) failed validation and were set aside.",
        "msg_top_reason": "The most common problem was “{reason}” ({n} rows).",
        "msg_duplicates": "{n} duplicate customer records were merged into one customer each.",
        "msg_source_lines": "The export held {n} lines; {n_none} of them ({share}) had no customer id and carried "
        "{money} ({money_share} of its revenue): they are in no customer's history.",
        "msg_source_lines_all": "The export held {n} lines, every one with a customer id.",
        "msg_source_duplicates_kept": "{n} lines repeated an earlier line in every column ({money}); they were kept "
        "and summed into their orders, as the source system counted them.",
        "msg_source_duplicates_dropped": "{n} lines repeated an earlier line in every column ({money}); they were "
        "left out.",
        "msg_source_excluded": "{n} source rows were left out by the mapping's filter (for example canceled orders).",
        "msg_drift": "Inputs that shifted strongly since training: {n} (largest: {feature}); consider retraining.",
        "msg_no_drift": "None of the {n} monitored inputs has shifted strongly since training.",
        "msg_move_churn": "The expected churn rate went from {before} to {after} ({delta}).",
        "msg_move_risk": "Revenue at risk went from {before} to {after}; high-risk customers from {n_before} "
        "to {n_after}.",
        "msg_move_customers": "{moved} of {stayed} returning customers ({share}) changed segment; {new} "
        "customers are new and {gone} are no longer scored.",
        "msg_top_move": "The largest move: {n} customers went from “{from}” to “{to}”.",
        # model health (custml monitor)
        "sec_health": "Model health: did the scores come true?",
        "health_verdict_healthy": "Healthy: the model keeps what it promised at training.",
        "health_verdict_watch": "Watch: something moved; look again at the next scoring.",
        "health_verdict_retrain": "Retrain: the model no longer keeps what it promised.",
        "health_intro": "Checked {n} scorings up to {now}: {matured} with known outcomes, {maturing} still within "
        "their {days}-day horizon (their quality is estimated from the probabilities, assuming they are "
        "calibrated).",
        "health_reason": "{date}: {check} {value} ({level})",
        "chart_health_auc": "Promised vs realised ROC AUC by scoring month",
        "chart_health_rate": "Churn rate by scoring month",
        "axis_auc": "ROC AUC",
        "axis_churn_rate": "Churn rate",
        "legend_promised": "Promised at training",
        "legend_realised": "Realised",
        "legend_estimated": "Estimated (no labels yet)",
        "legend_expected": "Expected (mean probability)",
        "col_scoring": "Scoring",
        "col_outcome": "Outcome",
        "col_realised_auc": "Realised AUC",
        "col_estimated_auc": "Estimated AUC",
        "col_churn_rate": "Churn rate",
        "col_expected_rate": "Expected",
        "col_score_psi": "Score shift (PSI)",
        "col_verdict": "Verdict",
        "outcome_known": "known",
        "outcome_maturing": "maturing",
        "check_auc_drop": "AUC below promise, beyond noise, by",
        "check_estimated_auc_drop": "estimated AUC below promise, beyond noise, by",
        "check_ece_excess": "calibration error above noise by",
        "check_rate_gap": "churn rate off the prediction, beyond noise, by",
        "check_early_return_gap": "fewer customers ordered again than expected, beyond noise, by",
        "check_score_psi": "score distribution shifted, PSI",
        "check_inputs_drifted": "model inputs drifted:",
        "level_healthy": "healthy",
        "level_watch": "watch",
        "level_retrain": "retrain",
        # units
        "points": "{value} points",
        "times": "{value}×",
        # who to save (uplift and expected-profit targeting)
        "sec_who": "Who to save",
        "intro_who": "Who the retention offer is worth sending to: the offer's estimated effect on each customer's "
        "churn (learnt from the last randomised campaign, offer against control) × the customer's expected "
        "12-month value × the margin, minus the offer's cost. Customers are taken highest expected profit first, "
        "only where the profit is positive, until the budget is spent.",
        "msg_active_at_risk": "{n} customers who are most likely still customers (Pareto/NBD probability of "
        "still being a customer of 50% or more) have a churn risk of {threshold} or more: these are the ones worth saving. {lapsed} "
        "more high-risk customers have most likely already left.",
        "msg_who_plan": "The plan contacts {n} customers for {spend}; it is expected to earn {profit} of profit "
        "after the offers' cost ({ret} per unit spent).",
        "msg_who_nobody": "No customer is expected to repay an offer costing {cost}: the last campaign changed too "
        "little for anyone whose value we know. Spend the budget elsewhere, or test a cheaper or stronger offer.",
        "msg_who_campaign": "In the last campaign the offer changed the churn rate by {uplift} on average, over {n} "
        "treated customers against a randomised control group.",
        "msg_who_churn_window": "Churn in this section means no order in the last {window} days of the {horizon} "
        "days after the offer (the customer has stopped buying by the end), not the churn model's definition.",
        "msg_who_fallback": "No randomised campaign in the data: the rule-based action list above stands. Run a "
        "campaign with a control group to learn whom an offer really changes.",
        "msg_who_no_model": "The campaign's uplift model is not used ({why}): the rule-based action list above "
        "stands.",
        "who_contacted": "Customers to contact",
        "who_spend": "Spend",
        "who_expected_profit": "Expected profit",
        "who_return": "Expected profit per unit spent",
        "who_offer_cost": "Cost of one offer",
        "chart_profit_curve": "Expected profit by share of customers contacted",
        "axis_share_contacted": "Share of customers contacted (highest expected profit first)",
        "axis_expected_profit": "Expected profit ({currency})",
        "legend_plan": "the plan",
        "sec_who_policies": "The plan against other ways of choosing",
        "intro_who_policies": "The same number of offers given by churn risk, by revenue at risk or at random, "
        "valued with the same effect estimates.",
        "sec_who_list": "The contact list",
        "intro_who_list": "The customers the plan contacts, highest expected profit first (the full list: "
        "custml campaign plan --scores FILE --budget AMOUNT).",
        "policy_plan": "Expected profit (the plan)",
        "policy_risk": "Highest churn risk",
        "policy_value_risk": "Highest revenue at risk",
        "policy_random": "At random",
        "col_policy": "How customers are chosen",
        "col_cost": "Cost",
        "col_expected_profit": "Expected profit",
        "col_uplift": "Churn reduced by",
        "col_chosen_action": "Chosen action",
    },
    "zh": {
        "html_lang": "zh-CN",
        "title": "客户报告",
        "subtitle": "流失风险、客户价值与建议行动",
        "as_of": "数据截至",
        "scored_at": "评分日期",
        "models_used": "模型",
        "currency_note": "金额单位：{currency}",
        "toc": "目录",
        "kpi_customers": "客户数",
        "kpi_customers_note": "本次评分的客户",
        "kpi_active": "活跃客户",
        "kpi_active_note": "占全部的 {share}；不含潜在客户和已流失客户",
        "kpi_churn_rate": "预计流失率",
        "kpi_churn_rate_note": "活跃客户，未来 {days} 天",
        "kpi_churn_rate_last_year": "；一年前同期 {rate} 流失",
        "kpi_churn_rate_note_outlook": "过去一年有订单的客户，未来 {days} 天",
        "msg_outlook_last_year": (
            "模型预计过去一年有订单的客户中 {rate} 在未来 {days} 天内不会下单；一年前同一季节，{last} 的客户没有下单。"
            "流失率随日历变化：请与同期相比。"
        ),
        "msg_outlook_short_history": (
            "数据不足一年加 {days} 天的预测期：模型没有见过这个季节，预计流失率可能偏离季节波动的幅度。"
            "请先把它当作排序来看。"
        ),
        "kpi_revenue_at_risk": "风险收入",
        "kpi_revenue_at_risk_note": "预计 12 个月价值 × 流失风险",
        "kpi_expected_value": "预计 12 个月价值",
        "kpi_expected_value_note": "全部客户，未来 12 个月",
        "kpi_high_risk": "高风险客户",
        "kpi_high_risk_note": "流失风险不低于 {threshold}",
        "vs_previous": "较上次 {delta}",
        "sec_summary": "主要发现",
        "sec_movement": "与上次评分相比的变化",
        "sec_segments": "客户分群",
        "sec_lifecycle": "生命周期阶段",
        "sec_risk": "流失风险",
        "sec_drivers": "流失的主要原因",
        "sec_model": "预测有多可靠？",
        "sec_actions": "行动清单",
        "sec_top_customers": "高价值高风险客户",
        "sec_quality": "数据质量",
        "sec_glossary": "如何阅读本报告",
        "intro_segments": "按最近购买时间、购买频次和消费金额划分的客户群（RFM 分群）。",
        "intro_lifecycle": "客户与我们关系所处的阶段。",
        "intro_risk": "流失风险指客户在未来 {days} 天内不再购买的概率。",
        "intro_drivers": "对流失预测影响最大的客户行为（基于全部客户）。",
        "intro_actions": "建议行动，以及每项行动涉及的客户数和价值。",
        "intro_top_customers": "预计价值高且流失风险不低于 {threshold} 的客户，按风险收入排序。"
        "编号已假名化；请通过安全的编号映射在 CRM 中查找。",
        "intro_quality": "评分前，未通过校验的数据行已被隔离，重复的客户记录已被合并。",
        "intro_movement": "与 {date} 的评分相比。",
        "no_previous": "未提供上次评分，因此不显示变化。",
        "no_top_customers": "没有高价值客户超过风险阈值。",
        "no_drivers": "本次评分未记录流失驱动因素。",
        "no_quality": "本次评分未记录数据质量统计。",
        "col_segment": "分群",
        "col_stage": "阶段",
        "col_customers": "客户数",
        "col_share_customers": "客户占比",
        "col_churn_risk": "平均流失风险",
        "col_high_risk": "高风险",
        "col_expected_value_12m": "预计 12 个月价值",
        "col_revenue_at_risk": "风险收入",
        "col_share_revenue_at_risk": "风险收入占比",
        "col_action": "建议行动",
        "col_customer_id": "客户编号",
        "col_churn_probability": "流失风险",
        "col_reason_1": "主要原因",
        "col_table": "数据表",
        "col_reason": "原因",
        "col_rows": "行数",
        "col_feature": "特征",
        "col_psi": "偏移（PSI）",
        "col_status": "状态",
        "col_from": "原分群",
        "col_to": "新分群",
        "col_previous": "上次",
        "col_current": "本次",
        "col_change": "变化",
        "col_measure": "指标",
        "col_value": "数值",
        "col_driver": "驱动因素",
        "col_influence": "影响占比",
        "total": "合计",
        "metric_roc_auc": "排序能力（ROC AUC；0.5 = 随机，1 = 完美）",
        "metric_pr_auc": "精确率-召回率 AUC",
        "metric_brier": "Brier 分数（越低越好）",
        "metric_ece": "校准误差（越低越好）",
        "metric_lift_top10": "前 10% 的提升度",
        "metric_capture_top10": "前 10% 覆盖的流失客户",
        "metric_base_rate": "测试期实际发生率（流失或复购）",
        "metric_test_cutoff": "测试期开始",
        "metric_model": "模型（版本）",
        "churn_model": "流失模型",
        "repurchase_model": "复购模型",
        "dq_rows_in": "接收行数",
        "dq_rows_scored": "已评分客户",
        "dq_rows_quarantined": "隔离行数",
        "dq_after_as_of": "评分日之后的行（之后的注册、订单、互动和营销发送；不计入隔离）",
        "dq_duplicates": "合并的重复记录",
        "dq_source_lines_in": "导出文件中的明细行",
        "dq_source_without_customer": "无客户编号的明细行",
        "dq_source_revenue_without_customer": "无客户编号明细行的收入",
        "dq_source_duplicates": "完全重复的明细行",
        "dq_source_excluded": "被映射筛选条件排除的源数据行",
        "dq_by_table": "按数据表统计的隔离行",
        "dq_by_reason": "按原因统计的隔离行",
        "dq_drift": "训练以来的输入偏移",
        "dq_not_scored": "未评分的客户记录",
        "mv_churn_rate": "预计流失率",
        "mv_revenue_at_risk": "风险收入",
        "mv_high_risk": "高风险客户",
        "mv_transitions": "分群间最大的流动",
        "chart_segment_sizes": "各分群客户数",
        "chart_segment_risk": "各分群平均流失风险",
        "chart_segment_revenue": "各分群风险收入",
        "chart_lifecycle": "各生命周期阶段客户数",
        "chart_lifecycle_revenue": "各生命周期阶段风险收入",
        "chart_value_risk": "按价值层级和流失风险划分的客户",
        "chart_risk_hist": "客户流失风险分布",
        "chart_drivers": "流失的主要驱动因素",
        "chart_calibration": "预测与实际流失对比（校准）",
        "chart_actions": "各建议行动的风险收入",
        "chart_movement": "各分群客户数变化",
        "axis_customers": "客户数",
        "axis_churn_risk": "平均流失风险（%）",
        "axis_revenue": "风险收入（{currency}）",
        "axis_risk_band": "流失风险",
        "axis_value_tier": "价值层级",
        "axis_churn_probability": "流失风险（%）",
        "axis_influence": "对预测的影响占比（%）",
        "axis_predicted": "预测流失风险（%）",
        "axis_observed": "实际流失率（%）",
        "axis_change": "客户数变化",
        "legend_overall": "全部客户：{value}",
        "legend_perfect": "完美校准",
        "legend_threshold": "高风险阈值 {threshold}",
        "legend_model": "模型",
        "legend_customers_n": "{n} 位客户",
        "gl_churn": "流失风险：模型预测客户在未来 {days} 天内不再购买的概率。流失指离开：过去一年有购买的客户在评分日后 "
        "{days} 天内没有任何购买。{days} 天是流失模型训练时设定的期限：默认 90 天，或在训练配置中设为 horizon_days: auto，"
        "即 90% 的复购间隔所在的天数（取整到月；比这更长的沉默意味着离开，而不是正常停顿）。",
        "gl_value": "预计 12 个月价值：客户在未来 12 个月预计的消费额。",
        "gl_risk": "风险收入：预计 12 个月价值乘以流失风险，对客户求和。",
        "gl_lift": "提升度：模型选出的最高风险客户中流失客户的数量，是随机挑选的多少倍。",
        "gl_calibration": "校准：预测的风险是否与实际发生的情况一致。",
        "gl_psi": "偏移（PSI）：输入数据自模型训练以来的变化程度；高于 0.25 表示变化很大。",
        "footer": "由 custml 根据假名化评分生成；报告不含姓名、电子邮件或电话号码。",
        "msg_active_high_risk": "{n} 位活跃客户（占活跃客户的 {share}）的流失风险不低于 {threshold}；他们预计在未来 12 个月"
        "消费 {value}。活跃指仍是客户：过去一年内有购买、未超出自己的购买节奏，且仍是客户的概率不低于 50%"
        "（根据购买历史的 Pareto/NBD 模型）。",
        "msg_lapsed_high_risk": "另有 {n} 位高风险客户很可能已经离开（按上述规则不算活跃）；给他们发优惠多半无人响应。",
        "msg_top_risk_segment": "“{segment}”分群的风险收入最多：{value}（占总额的 {share}）。",
        "msg_high_value_at_risk": "{n} 位高价值客户的流失风险不低于 {threshold}，涉及风险收入 {value}；"
        "行动清单中按编号列出了他们。",
        "msg_first_action": "优先执行“{action}”：{n} 位客户，风险收入 {value}。",
        "msg_actions": "行动清单覆盖 {n} 位客户，涉及风险收入 {value}（占 {share}）。",
        "msg_no_model_meta": "本次评分未记录模型质量。",
        "msg_lift": "按风险排序的前 10% 客户包含了 {capture} 的流失客户——是随机选取 10% 的 {lift}。",
        "msg_capture": "按风险排序的前 10% 客户包含了 {capture} 的流失客户。",
        "msg_lift_ceiling": "由于 {rate} 的客户会流失，即使完美的模型，其前 10% 也最多只能包含 {max} 的流失客户"
        "（提升度 {lift}）。",
        "msg_lift_only": "按风险排序的前 10% 客户中的流失客户数是随机选取 10% 的 {lift}。",
        "msg_calibration_good": "预测风险校准良好：与随后实际流失率的平均差距在 {gap} 以内。",
        "msg_calibration_ok": "预测风险大致校准：与随后实际流失率平均相差 {gap}。",
        "msg_calibration_poor": "预测风险平均偏差 {gap}：请用于客户排序，而非精确概率。",
        "msg_auc_strong": "模型对客户的排序能力强（ROC AUC {auc}）。",
        "msg_auc_useful": "模型的排序有用但不完美（ROC AUC {auc}）。",
        "msg_auc_weak": "模型的排序能力较弱（ROC AUC {auc}），请谨慎使用其风险值。",
        "msg_base_rate": "测试期内有 {rate} 的客户流失。",
        "msg_base_rate_at": "在 {date} 开始的测试期内，有 {rate} 的客户流失。",
        "msg_top_driver": "最强的流失信号是“{driver}”（占模型关注度的 {share}）。",
        "msg_top3_drivers": "前三个驱动因素合计占模型关注度的 {share}。",
        "msg_quarantined": "{n} 行数据（占输入的 {share}）未通过校验，已被隔离。",
        "msg_top_reason": "最常见的问题是“{reason}”（{n} 行）。",
        "msg_duplicates": "{n} 条重复的客户记录已合并。",
        "msg_source_lines": "导出文件共有 {n} 行明细；其中 {n_none} 行（{share}）没有客户编号，金额 {money}（占收入的 "
        "{money_share}）：它们不属于任何客户的历史。",
        "msg_source_lines_all": "导出文件共有 {n} 行明细，每行都有客户编号。",
        "msg_source_duplicates_kept": "{n} 行明细与之前某行的所有列完全相同（{money}）；已保留并计入其订单，与源系统的统计一致。",
        "msg_source_duplicates_dropped": "{n} 行明细与之前某行的所有列完全相同（{money}）；已排除。",
        "msg_source_excluded": "{n} 行源数据被映射的筛选条件排除（例如已取消的订单）。",
        "msg_drift": "自训练以来明显偏移的输入：{n} 个（最大：{feature}）；建议重新训练。",
        "msg_no_drift": "监控的 {n} 个输入自训练以来均无明显偏移。",
        "msg_move_churn": "预计流失率从 {before} 变为 {after}（{delta}）。",
        "msg_move_risk": "风险收入从 {before} 变为 {after}；高风险客户从 {n_before} 变为 {n_after}。",
        "msg_move_customers": "{stayed} 位持续客户中有 {moved} 位（{share}）更换了分群；新增 {new} 位客户，"
        "{gone} 位客户不再参与评分。",
        "msg_top_move": "最大的流动：{n} 位客户从“{from}”转到“{to}”。",
        # model health (custml monitor)
        "sec_health": "模型健康：预测是否应验？",
        "health_verdict_healthy": "健康：模型保持了训练时承诺的效果。",
        "health_verdict_watch": "关注：出现了变化，下次评分时请再查看。",
        "health_verdict_retrain": "需重新训练：模型已达不到训练时承诺的效果。",
        "health_intro": "已检查截至 {now} 的 {n} 次评分：{matured} 次结果已知，{maturing} 次仍在 {days} 天观察期内"
        "（其效果根据概率估计，前提是概率已校准）。",
        "health_reason": "{date}：{check} {value}（{level}）",
        "chart_health_auc": "各评分月份承诺与实际 ROC AUC",
        "chart_health_rate": "各评分月份流失率",
        "axis_auc": "ROC AUC",
        "axis_churn_rate": "流失率",
        "legend_promised": "训练时承诺",
        "legend_realised": "实际",
        "legend_estimated": "估计（尚无标签）",
        "legend_expected": "预期（平均概率）",
        "col_scoring": "评分日期",
        "col_outcome": "结果",
        "col_realised_auc": "实际 AUC",
        "col_estimated_auc": "估计 AUC",
        "col_churn_rate": "流失率",
        "col_expected_rate": "预期",
        "col_score_psi": "分数偏移（PSI）",
        "col_verdict": "结论",
        "outcome_known": "已知",
        "outcome_maturing": "观察中",
        "check_auc_drop": "AUC 低于承诺（超出噪声部分）",
        "check_estimated_auc_drop": "估计 AUC 低于承诺（超出噪声部分）",
        "check_ece_excess": "校准误差超出噪声",
        "check_rate_gap": "流失率偏离预测（超出噪声部分）",
        "check_early_return_gap": "再次下单的客户少于预期（超出噪声部分）",
        "check_score_psi": "分数分布偏移，PSI",
        "check_inputs_drifted": "模型输入漂移：",
        "level_healthy": "健康",
        "level_watch": "关注",
        "level_retrain": "需重新训练",
        "points": "{value} 个百分点",
        "times": "{value} 倍",
        # 挽留谁（提升模型与期望利润）
        "sec_who": "挽留谁",
        "intro_who": "挽留优惠值得发给谁：优惠对每位客户流失概率的估计影响（从上一次随机对照活动中学到：发优惠组对比"
        "对照组）× 客户未来 12 个月的期望价值 × 毛利率，再减去优惠成本。按期望利润从高到低选择客户，只选利润为正者，"
        "直到预算用完。",
        "msg_active_at_risk": "{n} 位很可能仍是客户的人（Pareto/NBD 仍是客户的概率不低于 50%）流失风险不低于 {threshold}："
        "他们才值得挽留。另有 {lapsed} 位高风险客户很可能已经离开。",
        "msg_who_plan": "计划联系 {n} 位客户，花费 {spend}；扣除优惠成本后预计获利 {profit}（每花 1 元获利 {ret}）。",
        "msg_who_nobody": "没有客户预计能收回一份成本为 {cost} 的优惠：上一次活动的效果太小。把预算用在别处，或测试更便宜"
        "或更有力的优惠。",
        "msg_who_campaign": "上一次活动中，与随机对照组相比，优惠使 {n} 位受优惠客户的流失率平均变化了 {uplift}。",
        "msg_who_churn_window": "本节中的流失指：发出优惠后的 {horizon} 天里，最后 {window} 天没有任何订单（到期末已停止购买），"
        "与流失模型的定义不同。",
        "msg_who_fallback": "数据中没有随机对照活动：沿用上面的规则行动清单。开展一次带对照组的活动，才能知道优惠真正改变了谁。",
        "msg_who_no_model": "未使用活动的增益模型（{why}）：沿用上面的规则行动清单。",
        "who_contacted": "需联系客户",
        "who_spend": "花费",
        "who_expected_profit": "期望利润",
        "who_return": "每单位花费的期望利润",
        "who_offer_cost": "单份优惠成本",
        "chart_profit_curve": "按联系客户比例的期望利润",
        "axis_share_contacted": "联系客户的比例（期望利润从高到低）",
        "axis_expected_profit": "期望利润（{currency}）",
        "legend_plan": "计划",
        "sec_who_policies": "计划与其他选择方式的比较",
        "intro_who_policies": "同样数量的优惠，按流失风险、按风险收入或随机发放，用同一套效果估计计算价值。",
        "sec_who_list": "联系名单",
        "intro_who_list": "计划联系的客户，按期望利润从高到低（完整名单：custml campaign plan --scores FILE --budget AMOUNT）。",
        "policy_plan": "期望利润（本计划）",
        "policy_risk": "流失风险最高",
        "policy_value_risk": "风险收入最高",
        "policy_random": "随机",
        "col_policy": "选择方式",
        "col_cost": "成本",
        "col_expected_profit": "期望利润",
        "col_uplift": "流失概率降低",
        "col_chosen_action": "选定行动",
    },
}

VALUES: dict[str, dict[str, str]] = {
    "en": {
        "(none)": "No segment (no purchase yet)",
        "risk_low": "Low (<20%)",
        "risk_medium": "Medium (20–50%)",
        "risk_high": "High (≥50%)",
        "high": "High",
        "medium": "Medium",
        "low": "Low",
        "ok": "OK",
        "warn": "Watch",
        "drift": "Shifted",
        "left out": "Not compared",
        # quarantine reasons of custml.quality
        "exact_duplicate_row": "Exact duplicate row",
        "null_required": "Required value missing",
        "unparseable_timestamp": "Unreadable date or time",
        "future_timestamp": "Date in the future",
        "not_allowed": "Value not allowed",
        "below_min": "Value below the minimum",
        "above_max": "Value above the maximum",
        "negative_amount_not_refund": "Negative amount on an order that is not a refund",
        "refund_positive_amount": "Refund with a positive amount",
        "unknown_customer": "Unknown customer",
        "duplicate_key": "Repeated id",
        "duplicate_key_after_merge": "Repeated id after merging duplicates",
        # why a customer record has no score (meta["rows_not_scored"] of custml score)
        "quarantined_by_quality": "Failed validation",
        "merged_duplicates": "Merged into another record of the same person",
        "not_yet_a_customer": "Not yet a customer on the scoring date (signed up or first ordered later)",
        "no_features_at_as_of": "No purchase or sign-up before the scoring date",
        "other": "Other",
    },
    "zh": {
        "(none)": "无分群（尚未购买）",
        "Champions": "冠军客户",
        "Loyal": "忠诚客户",
        "Potential loyalist": "潜在忠诚客户",
        "New": "新客户",
        "Promising": "有潜力客户",
        "Need attention": "需要关注",
        "About to sleep": "即将沉睡",
        "At risk": "有风险",
        "Cannot lose": "不能失去",
        "Hibernating": "休眠客户",
        "Lost": "已流失",
        "Prospect": "潜在客户",
        "prospect": "潜在客户",
        "new": "新客户",
        "active": "活跃",
        "loyal": "忠诚",
        "at risk": "有风险",
        "churned": "已流失",
        "high": "高",
        "medium": "中",
        "low": "低",
        "normal": "一般",
        "dormant": "沉睡",
        "personal outreach": "专人联系",
        "retention offer": "挽留优惠",
        "win-back offer": "赢回优惠",
        "onboarding offer": "新客引导优惠",
        "low-cost reactivation": "低成本唤回",
        "loyalty reward": "忠诚奖励",
        "no action": "无需行动",
        "risk_low": "低（<20%）",
        "risk_medium": "中（20–50%）",
        "risk_high": "高（≥50%）",
        "ok": "正常",
        "warn": "关注",
        "drift": "已偏移",
        "left out": "未比较",
        "orders": "订单",
        "customers": "客户",
        "interactions": "互动",
        "campaigns": "营销活动",
        "exact_duplicate_row": "完全重复的行",
        "null_required": "必填值缺失",
        "unparseable_timestamp": "无法识别的日期时间",
        "future_timestamp": "未来日期",
        "not_allowed": "取值不允许",
        "below_min": "低于下限",
        "above_max": "高于上限",
        "negative_amount_not_refund": "非退款订单金额为负",
        "refund_positive_amount": "退款金额为正",
        "duplicate_key": "重复编号",
        "duplicate_key_after_merge": "合并重复记录后编号重复",
        "quarantined_by_quality": "未通过校验",
        "merged_duplicates": "已合并到同一人的另一条记录",
        "not_yet_a_customer": "评分日尚未成为客户（之后才注册或首次下单）",
        "no_features_at_as_of": "评分日期前无购买或注册",
        "other": "其他",
        "unknown_customer": "未知客户",
    },
}


def t(key: str, lang: str = "en", **params: object) -> str:
    """The label ``key`` in ``lang``, with ``{name}`` placeholders filled from ``params``.

    Examples
    --------
    >>> t("kpi_churn_rate_note", "en", days=90)
    'of active customers, next 90 days'
    """
    if lang not in LABELS:
        raise ValueError(f"unknown report language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    text = LABELS[lang][key]
    return text.format(**params) if params else text


def tv(value: object, lang: str = "en") -> str:
    """A category value in ``lang`` (sentence-cased in English); unknown values come back as they are.

    Examples
    --------
    >>> tv("at risk", "zh"), tv("personal outreach", "en"), tv("Some new segment", "zh")
    ('有风险', 'Personal outreach', 'Some new segment')
    """
    text = "" if value is None else str(value)
    table = VALUES.get(lang, {})
    if text in table:
        return table[text]
    if lang == "en" and text[:1].islower():
        return (text[:1].upper() + text[1:]).replace("_", " ")
    return text


def _scaled(value: float, size: float, unit: str) -> str:
    text = f"{value / size:,.1f}"
    return (
        text[:-2] if text.endswith(".0") else text
    ) + unit  # "€20k" on round axis ticks, "€19.7k" otherwise


def _compact(value: float, lang: str) -> str:
    a = abs(value)
    if lang == "zh":
        for size, unit in ((1e8, "亿"), (1e4, "万")):
            if a >= size:
                return _scaled(value, size, unit)
        return f"{value:,.0f}"
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= 10 * size or (unit != "k" and a >= size):
            return _scaled(value, size, unit)
    return f"{value:,.0f}"


_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CNY": "¥", "JPY": "¥"}


def format_money(value: float, currency: str = "EUR", lang: str = "en", *, compact: bool = True) -> str:
    """An amount with its currency symbol, compact (``€1.2M``, ``€120.5万``) or in full (``€1,234``).

    Examples
    --------
    >>> format_money(1_234_567, "EUR", "en"), format_money(1_234_567, "EUR", "zh"), format_money(512.4, "USD")
    ('€1.2M', '€123.5万', '$512')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    symbol = _SYMBOLS.get(currency.upper(), currency.upper() + " ")
    body = _compact(value, lang) if compact else f"{value:,.0f}"
    sign = "-" if body.startswith("-") else ""
    return f"{sign}{symbol}{body.lstrip('-')}"


def format_percent(value: float, digits: int = 1) -> str:
    """A share in [0, 1] as a percentage (``0.1234 -> '12.3%'``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100 * value:.{digits}f}%"


def format_points(value: float, lang: str = "en", *, signed: bool = True) -> str:
    """A difference of shares in percentage points, with its sign unless ``signed=False`` (``0.012 -> '+1.2 points'``)."""
    return t("points", lang, value=f"{100 * value:+.1f}" if signed else f"{100 * value:.1f}")


def format_count(value: int) -> str:
    """A whole number with thousands separators."""
    return f"{int(value):,}"
