/* Case statuses and the seven steps of the loop, in Chinese with English (resident pages). */
(function () {
  "use strict";
  var wangge = (window.wangge = window.wangge || {});
  var STATUS = {
    reported: "已上报 reported", accepted: "已受理 accepted", void: "已作废 void",
    filed: "已立案 filed", dispatched: "已派遣 dispatched", signed: "已签收 signed",
    in_progress: "处置中 in progress", handled: "已处置 handled", checking: "核查中 checking",
    rework: "返工 rework", returned: "已退回 returned", parked: "挂账 parked",
    self_handled: "自行处置 self-handled", closed: "已结案 closed", evaluated: "已评价 evaluated"
  };
  wangge.statusName = function (s) { return STATUS[s] || s; };
  /* 数字化城管 seven steps: the statuses that belong to each. */
  wangge.STEPS = [
    ["上报 Reported", ["reported"]],
    ["立案 Filed", ["accepted", "filed", "parked"]],
    ["派遣 Dispatched", ["dispatched", "returned"]],
    ["处置 Being handled", ["signed", "in_progress", "rework"]],
    ["反馈 Handled", ["handled", "self_handled"]],
    ["核查结案 Checked and closed", ["checking", "closed"]],
    ["评价 Rated", ["evaluated"]]
  ];
  wangge.stepOf = function (status) {
    for (var i = 0; i < wangge.STEPS.length; i++) {
      if (wangge.STEPS[i][1].indexOf(status) >= 0) return i;
    }
    return -1;
  };
})();
